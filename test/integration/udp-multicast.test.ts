import { afterEach, describe, expect, it } from "vitest";
import { freePorts, type Proc, startProc, stopAll, tempConfig } from "../helpers/procs.js";

interface Del {
  from: number;
  seq: number;
  text: string;
  order?: number;
  vc?: number[];
  history?: boolean;
}

const N = 4;
const PER = 50;
let procs: Proc[] = [];
afterEach(async () => {
  await stopAll(procs);
  procs = [];
});

const deliveries = (p: Proc): Del[] =>
  p.lines.map((l) => JSON.parse(l) as { event: string } & Del).filter((e) => e.event === "deliver");

describe("4 real rmchat processes on loopback, drop 0.3, delay 0.01", () => {
  for (const ordering of ["fifo", "causal", "total"] as const) {
    it(`${ordering}: every node delivers all ${N * PER} messages exactly once, in order`, async () => {
      const config = tempConfig(await freePorts(N));
      procs = Array.from({ length: N }, (_, i) =>
        startProc([
          String(i),
          "0.01",
          "0.3",
          "--json",
          "--config",
          config,
          "--ordering",
          ordering,
          "--log-level",
          "warn",
        ]),
      );
      for (const [i, p] of procs.entries()) {
        for (let k = 1; k <= PER; k++) p.child.stdin.write(`node ${i} line ${k}\n`);
        p.child.stdin.end(); // EOF must not stop the node
      }
      await Promise.all(
        procs.map((p, i) =>
          p.waitFor(
            () => deliveries(p).length >= N * PER,
            90_000,
            `node ${i} to deliver ${N * PER}`,
          ),
        ),
      );
      // A little longer: nothing more may arrive (no duplicates later on).
      await new Promise((r) => setTimeout(r, 500));
      const all = procs.map(deliveries);
      for (const [i, d] of all.entries()) {
        expect(d.length, `node ${i} delivery count`).toBe(N * PER);
        expect(new Set(d.map((x) => `${x.from}:${x.seq}`)).size, `node ${i} distinct`).toBe(
          N * PER,
        );
        const next = new Array<number>(N).fill(1);
        for (const x of d) {
          expect(x.seq, `node ${i}: fifo from ${x.from}`).toBe(next[x.from]);
          expect(x.text).toBe(`node ${x.from} line ${x.seq}`);
          next[x.from] = x.seq + 1;
        }
        if (ordering === "causal") {
          const delivered = new Array<number>(N).fill(0);
          for (const x of d) {
            // A node that joined after the others began gets their first messages as history
            // (no clock: they come in the order its provider delivered them, checked there).
            const vc = x.vc;
            if (!vc) {
              expect(x.history, `node ${i}: a live delivery without a clock`).toBe(true);
              delivered[x.from] = x.seq;
              continue;
            }
            for (let k = 0; k < N; k++) {
              if (k !== x.from)
                expect(
                  delivered[k],
                  `node ${i}: causal predecessor of ${x.from}:${x.seq}`,
                ).toBeGreaterThanOrEqual(vc[k] as number);
            }
            delivered[x.from] = x.seq;
          }
        }
      }
      if (ordering === "total") {
        const seqs = all.map((d) => d.map((x) => `${x.from}:${x.seq}`).join(","));
        for (const s of seqs) expect(s).toBe(seqs[0]);
        // Order numbers are log positions: increasing, and the same for a message everywhere.
        const orders = all.map((d) => d.map((x) => x.order as number));
        for (const o of orders) {
          expect(o).toEqual(orders[0]);
          for (let k = 1; k < o.length; k++) expect(o[k]).toBeGreaterThan(o[k - 1] as number);
        }
      }
    });
  }
});
