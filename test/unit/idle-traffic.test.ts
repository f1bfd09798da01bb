import { describe, expect, it } from "vitest";
import { defaultMembership } from "../../src/core/membership/config.js";
import type { Ordering } from "../../src/core/types.js";
import { Sim } from "../../src/runtime/sim.js";

// Idle traffic (issue 10, targets 7 and 8): the leader sends each follower one frame per
// heartbeat interval (its round); a follower answers the leader and sends the other followers
// a keepalive every 10 intervals, since the leader vouches for them in its rounds. Stability
// reports ride on those frames instead of taking their own, and a node's heartbeats leave
// together. A killed node is still found within deadAfterMs.

const HB = defaultMembership(4).heartbeatMs;

/**
 * Datagrams each node sends per second once an n-node group is idle, over `seconds`, and
 * whether it leads.
 */
function idleRates(
  ordering: Ordering,
  seconds: number,
  n = 4,
): Array<{ rate: number; leader: boolean }> {
  const sim = new Sim({ seed: 7, hosts: n, ordering });
  const ids = [...Array(n).keys()];
  // Some traffic first: reports then have something to say.
  for (let i = 0; i < 4; i++) sim.at(500 + i, () => sim.send(i, `hello from ${i}`));
  sim.run(3000);
  const before = ids.map((i) => sim.node(i)?.stats().datagramsSent ?? 0);
  sim.run(3000 + seconds * 1000);
  return ids.map((i) => ({
    rate: ((sim.node(i)?.stats().datagramsSent ?? 0) - (before[i] as number)) / seconds,
    leader: sim.node(i)?.status().role === "leader",
  }));
}

const perPeer = 1000 / HB;
/** A follower's keepalive to another follower, per second (one per 10 heartbeats). */
const keepalive = perPeer / 10;

describe("idle traffic", () => {
  for (const ordering of ["fifo", "causal"] as const) {
    it(`${ordering}: the leader sends each of its 3 followers one frame per heartbeat; a follower answers it and keeps the others alive`, () => {
      const rates = idleRates(ordering, 10);
      expect(rates.filter((r) => r.leader)).toHaveLength(1);
      for (const { rate, leader } of rates) {
        // At least the heartbeats (liveness), at most 5% over them (no report of its own).
        const want = leader ? 3 * perPeer : perPeer + 2 * keepalive;
        expect(rate).toBeGreaterThanOrEqual(want * 0.95);
        expect(rate).toBeLessThanOrEqual(want * 1.05);
      }
    });
  }

  it("16 idle nodes: the group's traffic grows with N, not N² (a fifth of all-to-all)", () => {
    const n = 16;
    const rates = idleRates("causal", 10, n);
    let total = 0;
    for (const { rate, leader } of rates) {
      total += rate;
      if (leader) expect(rate).toBeLessThanOrEqual((n - 1) * perPeer * 1.05);
      // The answers to the leader, and keepalives (aligned with the answers, so a little early).
      else expect(rate).toBeLessThanOrEqual(perPeer * 1.05 + (n - 2) * keepalive * 1.25);
    }
    // All-to-all heartbeats were n(n-1) per interval: 2400 datagrams a second here.
    expect(total).toBeLessThanOrEqual(0.25 * n * (n - 1) * perPeer);
  });

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
