import { describe, expect, it } from "vitest";
import { type DrainResult, RmNode } from "../../src/core/node.js";
import { DEFAULT_LIMITS, type Ordering } from "../../src/core/types.js";
import { seededRng } from "../../src/runtime/rng.js";
import { Sim } from "../../src/runtime/sim.js";

/**
 * `drainReused` (the simulator's drain) hands out the same frames, events and persisted
 * state as `drain`, in lists the node reuses. Two identical groups of three nodes get the
 * same inputs; one is drained with `drain`, the other with `drainReused`, and every drain
 * is compared (as copies, taken at once: the reused lists change at the next call).
 */
function group(ordering: Ordering): RmNode[] {
  return [0, 1, 2].map(
    (id) =>
      new RmNode({
        id,
        hostCount: 3,
        incarnation: 100 + id,
        ordering,
        limits: DEFAULT_LIMITS,
        random: seededRng(7 + id),
        now: 0,
      }),
  );
}

const copy = (r: DrainResult) => ({
  datagrams: r.datagrams.map((d) => ({ to: d.to, bytes: [...d.bytes] })),
  events: JSON.parse(JSON.stringify(r.events)) as unknown,
  persist: r.persist ? { ...r.persist } : undefined,
});

describe("RmNode.drainReused", () => {
  for (const ordering of ["fifo", "causal", "total"] as const) {
    it(`${ordering}: the same output as drain, drain after drain`, () => {
      const a = group(ordering);
      const b = group(ordering);
      const wire: Array<{ from: number; to: number; bytes: Uint8Array }> = [];
      let outputs = 0;
      let reusedLists = 0;
      // Per node, the lists its earlier drains handed out.
      const handed: Array<{ events: unknown[]; datagrams: unknown[] }> = [0, 1, 2].map(() => ({
        events: [],
        datagrams: [],
      }));
      const drainBoth = (i: number, t: number): void => {
        const x = copy((a[i] as RmNode).drain(t));
        const rb = (b[i] as RmNode).drainReused(t);
        const h = handed[i] as { events: unknown[]; datagrams: unknown[] };
        // The event list of two drains ago (two lists take turns), the same datagram list.
        if (h.events[h.events.length - 2] === rb.events && h.datagrams.at(-1) === rb.datagrams)
          reusedLists++;
        h.events.push(rb.events);
        h.datagrams.push(rb.datagrams);
        const y = copy(rb);
        expect(y).toEqual(x);
        if (x.datagrams.length + (x.events as unknown[]).length > 0) outputs++;
        for (const d of x.datagrams)
          wire.push({ from: i, to: d.to, bytes: Uint8Array.from(d.bytes) });
      };
      for (let t = 0; t < 3000; t += 7) {
        if (t % 70 === 0) {
          const i = (t / 70) % 3;
          (a[i] as RmNode).send(t, `m${t}`);
          (b[i] as RmNode).send(t, `m${t}`);
        }
        for (let i = 0; i < 3; i++) {
          (a[i] as RmNode).tick(t);
          (b[i] as RmNode).tick(t);
          drainBoth(i, t);
        }
        // Every other datagram is lost, so retransmissions and acks show up too.
        const batch = wire.splice(0);
        batch.forEach((d, k) => {
          if (k % 2 === 1) return;
          (a[d.to] as RmNode).receive(t + 1, d.from, d.bytes);
          (b[d.to] as RmNode).receive(t + 1, d.from, d.bytes);
          drainBoth(d.to, t + 1);
        });
      }
      expect(outputs).toBeGreaterThan(100);
      // Not drain under another name: the node handed out the lists it had handed out before.
      expect(reusedLists).toBeGreaterThan(1000);
      const delivered = (n: RmNode) => n.stats().delivered;
      expect(b.map(delivered)).toEqual(a.map(delivered));
      expect(Math.min(...b.map(delivered))).toBeGreaterThan(0);
    });
  }

  it("the simulator stays right when an observer calls back into it from inside a settle", () => {
    // Each delivery at node 1 of a message from node 0 makes node 1 answer at once (from
    // inside the settle that reports the delivery). Nothing may be lost or recorded twice.
    const run = (reentrant: boolean) => {
      const sim = new Sim({ seed: 5, hosts: 3, ordering: "causal" });
      let answered = 0;
      sim.onEvent = (node, ev) => {
        if (node !== 1 || ev.type !== "deliver" || ev.from !== 0) return;
        if (reentrant) sim.send(1, `re ${ev.text}`);
        else sim.at(sim.now, () => sim.send(1, `re ${ev.text}`));
        answered++;
      };
      // One burst: node 1 gets the ten in one datagram, and reports them in one settle.
      for (let k = 0; k < 10; k++) sim.at(1000, () => sim.send(0, `m${k}`));
      sim.run(1200);
      sim.runUntilQuiet(60_000);
      const delivered = [0, 1, 2].map((i) => sim.node(i)?.stats().delivered ?? 0);
      const recorded = [0, 1, 2].map(
        (i) => sim.history.filter((e) => e.kind === "deliver" && e.node === i).length,
      );
      return { answered, delivered, recorded };
    };
    const direct = run(true);
    expect(direct.answered).toBe(10);
    // Every node delivered the 10 messages and the 10 answers, and the history has each once.
    expect(direct.delivered).toEqual([20, 20, 20]);
    expect(direct.recorded).toEqual(direct.delivered);
    expect(run(false).delivered).toEqual([20, 20, 20]);
  });
});
