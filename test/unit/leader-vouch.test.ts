import { describe, expect, it } from "vitest";
import { defaultMembership } from "../../src/core/membership/config.js";
import { FailureDetector, type HealthChange } from "../../src/core/membership/detector.js";
import { Sim } from "../../src/runtime/sim.js";

// Followers heartbeat only the leader; the leader's rounds carry when it last heard each
// member (`ages`), which the followers take as contact (README "Membership": the leader
// vouches). Detection keeps its timing at every node, and a follower cut off from another
// one while the leader is not still finds out by itself.

const M = defaultMembership(8);

/** When each node of `at` first reports `peer` dead, from `from` on, sampled every ms. */
function watchDead(
  sim: Sim,
  at: number[],
  peer: number,
  from: number,
  also?: (now: number) => void,
): Map<number, number> {
  const seen = new Map<number, number>();
  sim.every(from, 1, (now) => {
    for (const i of at) if (!seen.has(i) && sim.node(i)?.health(peer) === "dead") seen.set(i, now);
    also?.(now);
  });
  return seen;
}

function leaderOf(sim: Sim, n: number): number {
  for (let i = 0; i < n; i++) if (sim.node(i)?.status().role === "leader") return i;
  throw new Error("no leader");
}

describe("the leader vouches for the followers", () => {
  it("detector: a vouch refreshes a live peer, never revives a dead one, and is ignored when distrusted", () => {
    const d = new FailureDetector(0, 3, M);
    const out: HealthChange[] = [];
    d.heard(1, 0, out);
    d.heard(2, 0, out);
    d.vouch(1, 700, 700, out);
    d.tick(900, out, []);
    expect(d.state(1)).toBe("alive"); // vouched at 700: not even suspect
    expect(d.state(2)).toBe("dead"); // silent since 0
    d.vouch(2, 900, 900, out);
    expect(d.state(2)).toBe("dead"); // only its own frames bring it back
    d.distrust[1] = true;
    d.tick(1000, out, []);
    expect(d.state(1)).toBe("dead"); // judged by direct contact only (0)
  });

  it("a crashed follower is declared dead within deadAfterMs by every node, followers included", () => {
    const n = 8;
    const sim = new Sim({ seed: 21, hosts: n, ordering: "causal" });
    sim.run(3000);
    const leader = leaderOf(sim, n);
    const victim = leader === 5 ? 6 : 5;
    const crashAt = 3000;
    sim.crash(victim);
    const others = [...Array(n).keys()].filter((i) => i !== victim);
    const seen = watchDead(sim, others, victim, crashAt);
    sim.run(5000);
    expect(seen.size).toBe(others.length);
    for (const t of seen.values()) expect(t - crashAt).toBeLessThanOrEqual(M.deadAfterMs + 5);
  });

  it("a crashed leader: every follower declares it dead in time, and none declares another follower dead", () => {
    const n = 8;
    const sim = new Sim({ seed: 22, hosts: n, ordering: "total" });
    sim.run(3000);
    const leader = leaderOf(sim, n);
    const crashAt = 3000;
    sim.crash(leader);
    const survivors = [...Array(n).keys()].filter((i) => i !== leader);
    let falseDead = 0;
    const seen = watchDead(sim, survivors, leader, crashAt, () => {
      for (const a of survivors)
        for (const b of survivors) if (a !== b && sim.node(a)?.health(b) === "dead") falseDead++;
    });
    sim.run(6000);
    expect(seen.size).toBe(survivors.length);
    for (const t of seen.values()) expect(t - crashAt).toBeLessThanOrEqual(M.deadAfterMs + 5);
    expect(falseDead).toBe(0);
    const next = leaderOf(sim, n);
    expect(next).not.toBe(leader);
  });

  it("a follower cut off from another (the leader reaches both) finds out once its data is stuck", () => {
    const n = 5;
    const sim = new Sim({ seed: 23, hosts: n, ordering: "fifo" });
    sim.run(3000);
    const leader = leaderOf(sim, n);
    const [a, b] = [0, 1, 2, 3, 4].filter((i) => i !== leader) as [number, number];
    sim.partition([a], [b]);
    const seen = watchDead(sim, [a], b, 3000);
    sim.at(3100, () => sim.send(a, "to everyone, b included"));
    sim.run(6000);
    // Without the distrust rule the leader's word would keep b alive at a forever.
    expect(seen.has(a)).toBe(true);
  });
});
