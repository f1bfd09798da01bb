import { describe, expect, it } from "vitest";
import { defaultMembership } from "../../src/core/membership/config.js";
import type { Ordering } from "../../src/core/types.js";
import { Sim } from "../../src/runtime/sim.js";

// Idle traffic (issue 10, target 8): an idle group sends each peer one frame per heartbeat
// interval, no more. Stability reports ride on those frames instead of taking their own, and
// a node's heartbeats leave together. A killed node is still found within deadAfterMs.

const HB = defaultMembership(4).heartbeatMs;

/** Datagrams each node sends per second once a 4-node group is idle, over `seconds`. */
function idleRates(ordering: Ordering, seconds: number): number[] {
  const sim = new Sim({ seed: 7, hosts: 4, ordering });
  // Some traffic first: reports then have something to say.
  for (let i = 0; i < 4; i++) sim.at(500 + i, () => sim.send(i, `hello from ${i}`));
  sim.run(3000);
  const before = [0, 1, 2, 3].map((i) => sim.node(i)?.stats().datagramsSent ?? 0);
  sim.run(3000 + seconds * 1000);
  return [0, 1, 2, 3].map(
    (i) => ((sim.node(i)?.stats().datagramsSent ?? 0) - (before[i] as number)) / seconds,
  );
}

describe("idle traffic", () => {
  for (const ordering of ["fifo", "causal"] as const) {
    it(`${ordering}: each idle node sends each of its 3 peers about one frame per heartbeat`, () => {
      const perPeer = 1000 / HB;
      for (const r of idleRates(ordering, 10)) {
        // At least the heartbeats (liveness), at most 5% over them (no report of its own).
        expect(r).toBeGreaterThanOrEqual(3 * perPeer * 0.95);
        expect(r).toBeLessThanOrEqual(3 * perPeer * 1.05);
      }
    });
  }

  it("a crashed node is still declared dead within deadAfterMs of its last frame", () => {
    const m = defaultMembership(4);
    const sim = new Sim({ seed: 11, hosts: 4, ordering: "causal" });
    sim.run(3000);
    sim.crash(3);
    const crashedAt = 3000;
    let deadAt: number | undefined;
    sim.every(3000, 5, (t) => {
      if (deadAt === undefined && sim.node(0)?.health(3) === "dead") deadAt = t;
    });
    sim.run(5000);
    expect(deadAt).toBeDefined();
    expect((deadAt as number) - crashedAt).toBeLessThanOrEqual(m.deadAfterMs + 5);
  });
});
