import { describe, expect, it } from "vitest";
import type { Ordering } from "../../src/core/types.js";
import { Sim } from "../../src/runtime/sim.js";
import { deliveriesByNode, key } from "../helpers/history.js";

function burst(ordering: Ordering, drop: number, seed: number) {
  const sim = new Sim({ seed, hosts: 4, ordering, faults: { delay: 0.01, drop } });
  for (let i = 0; i < 4; i++) {
    for (let k = 0; k < 50; k++) sim.at(k * 3 + i, () => sim.send(i, `m${i}-${k}`));
  }
  sim.run(500);
  expect(sim.runUntilQuiet(120_000)).toBe(true);
  return { sim, per: deliveriesByNode(sim.history, 4) };
}

describe("RmNode in the simulator", () => {
  for (const ordering of ["fifo", "causal", "total"] as const) {
    it(`${ordering}: 4 nodes x 50 messages at drop 0.3 are delivered exactly once everywhere`, () => {
      const { per } = burst(ordering, 0.3, 42);
      for (const d of per) {
        expect(d.length).toBe(200);
        expect(new Set(d.map((x) => key(x.from, x.seq))).size).toBe(200);
        const last = new Map<number, number>();
        for (const x of d) {
          expect(x.seq).toBe((last.get(x.from) ?? 0) + 1);
          last.set(x.from, x.seq);
        }
      }
      if (ordering === "total") {
        const seqs = per.map((d) => d.map((x) => key(x.from, x.seq)).join(","));
        for (const s of seqs) expect(s).toBe(seqs[0]);
      }
    });
  }
});
