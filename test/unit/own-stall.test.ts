import { describe, expect, it } from "vitest";
import { OwnStall, STALL_FACTOR } from "../../src/core/membership/awareness.js";
import { defaultMembership } from "../../src/core/membership/config.js";
import { FailureDetector, type HealthChange } from "../../src/core/membership/detector.js";
import { Sim } from "../../src/runtime/sim.js";

// A process starved of CPU on a shared machine (its own timers run late) judges its peers'
// silence further back for a while: they were likely starved too (Lifeguard's local health
// awareness). README "Membership": own stalls.

const M = defaultMembership(4);

describe("own stall allowance", () => {
  it("is twice a stall beyond the slack, decays at half the clock's speed, and is capped", () => {
    const s = new OwnStall();
    s.observe(1000, 990, 50, 5000); // 10 ms late: within the slack
    expect(s.extra(1000)).toBe(0);
    s.observe(2000, 1000, 50, 5000); // 1 s late
    expect(s.extra(2000)).toBe(STALL_FACTOR * 1000);
    expect(s.extra(3000)).toBe(STALL_FACTOR * 1000 - 500);
    s.observe(3000, 2990, 50, 5000); // a small lateness does not shrink what is left
    expect(s.extra(3000)).toBe(1500);
    expect(s.extra(2000 + 2 * STALL_FACTOR * 1000)).toBe(0);
    s.observe(10_000, 0, 50, 5000);
    expect(s.extra(10_000)).toBe(5000);
  });

  it("credits the part of the stall the silence clocks were already moved on by", () => {
    const s = new OwnStall();
    s.observe(2000, 1000, 50, 5000, 900); // 1 s late, 900 ms already shifted
    expect(s.extra(2000)).toBe(STALL_FACTOR * 1000 - 900);
    const t = new OwnStall();
    t.observe(2000, 1000, 50, 5000, 5000); // at most the lateness itself is credited
    expect(t.extra(2000)).toBe((STALL_FACTOR - 1) * 1000);
  });
});

/** When each node first held each peer dead, from `from` on (sampled every ms). */
function deadVerdicts(sim: Sim, from: number): Array<{ node: number; peer: number; t: number }> {
  const out: Array<{ node: number; peer: number; t: number }> = [];
  const seen = new Set<string>();
  sim.every(from, 1, (now) => {
    for (let i = 0; i < sim.size; i++)
      for (let p = 0; p < sim.size; p++) {
        if (p === i || seen.has(`${i}:${p}`) || sim.node(i)?.health(p) !== "dead") continue;
        seen.add(`${i}:${p}`);
        out.push({ node: i, peer: p, t: now });
      }
  });
  return out;
}

describe("a stalled process does not blame its peers for a shared stall", () => {
  it("node 0 starved for 1 s while the others are starved for 1.6 s declares nobody dead", () => {
    const sim = new Sim({ seed: 3, hosts: 4, ordering: "causal" });
    sim.run(3000);
    const verdicts = deadVerdicts(sim, 3000);
    sim.freeze(0, 1000);
    for (const i of [1, 2, 3]) sim.freeze(i, 1600);
    sim.run(6000);
    // Without the allowance, node 0 woke to 1 s of silence from everyone, then 1.6 s: all dead.
    expect(verdicts).toEqual([]);
  });

  it("a peer that really crashed during our stall is still declared dead, later by the allowance", () => {
    const sim = new Sim({ seed: 3, hosts: 4, ordering: "causal" });
    sim.run(3000);
    const verdicts = deadVerdicts(sim, 3000);
    sim.crash(3);
    sim.freeze(0, 1000);
    sim.run(8000);
    const at0 = verdicts.find((v) => v.node === 0 && v.peer === 3);
    expect(at0).toBeDefined();
    // Silence since 3000; judged 2 s behind the clock right after the stall, decaying.
    const bound = 3000 + M.deadAfterMs + STALL_FACTOR * 1000 + 50;
    expect(at0?.t ?? Number.POSITIVE_INFINITY).toBeLessThanOrEqual(bound);
    // The nodes that did not stall declare it dead in the usual time.
    for (const i of [1, 2]) {
      const v = verdicts.find((x) => x.node === i && x.peer === 3);
      expect(v?.t ?? Number.POSITIVE_INFINITY).toBeLessThanOrEqual(3000 + M.deadAfterMs + 5);
    }
    // Node 0 itself was silent for 1 s: the others rightly declare it dead (it is back later).
    expect(verdicts.filter((v) => v.peer !== 3 && v.peer !== 0)).toEqual([]);
  });
});

describe("own stall: peers heard after the stall ended", () => {
  it("are judged at the clock, the others with the allowance (seed 20261706)", () => {
    const fd = new FailureDetector(0, 3, M);
    const changes: HealthChange[] = [];
    // Our stall ended at t=2490 (allowance 3894 ms). Peer 1 spoke at t=2490 (a frame that
    // waited in our socket), then died; peer 2 was last heard before the stall.
    fd.heard(2, 500, changes);
    fd.heard(1, 2490, changes);
    changes.length = 0;
    const t = 2490 + M.deadAfterMs;
    const judged = t - 3000; // the allowance pushes judged time back
    fd.tick(judged, changes, [], t, 2490);
    expect(changes.filter((c) => c.to === "dead").map((c) => c.peer)).toEqual([1]);
    // Without `freshAfter` (the code before), peer 1 stays alive for another 3 s.
    const old = new FailureDetector(0, 3, M);
    old.heard(1, 2490, []);
    const oc: HealthChange[] = [];
    old.tick(judged, oc, []);
    expect(oc.filter((c) => c.to === "dead")).toEqual([]);
  });
});
