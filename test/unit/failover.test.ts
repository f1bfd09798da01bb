import { describe, expect, it } from "vitest";
import type { HistoryEvent } from "../../src/runtime/sim.js";
import { Sim } from "../../src/runtime/sim.js";
import { deliveriesByNode, key } from "../helpers/history.js";

type LeaderEv = Extract<HistoryEvent, { kind: "leader" }>;

/** Every (term → leader) claim: a node reporting itself leader of a term. */
function selfClaims(sim: Sim): Map<number, Set<number>> {
  const m = new Map<number, Set<number>>();
  for (const h of sim.history) {
    if (h.kind !== "leader" || h.leader !== h.node) continue;
    if (!m.has(h.term)) m.set(h.term, new Set());
    m.get(h.term)?.add(h.node);
  }
  return m;
}

function currentLeader(sim: Sim): number | undefined {
  const ls = new Set<number | undefined>();
  for (let i = 0; i < sim.size; i++) {
    const n = sim.node(i);
    if (n) ls.add(n.status().leader);
  }
  return ls.size === 1 ? [...ls][0] : undefined;
}

describe("leader election and sequencer failover (simulated)", () => {
  it("a crashed leader is replaced and total order continues with no gap, duplicate or disagreement", () => {
    const sim = new Sim({
      seed: 11,
      hosts: 5,
      ordering: "total",
      faults: { delay: 0.002, drop: 0.05 },
    });
    sim.run(2_000);
    const first = currentLeader(sim);
    expect(first).toBeDefined();
    for (let i = 0; i < 5; i++) {
      for (let k = 0; k < 40; k++) sim.at(2_000 + k * 20 + i, () => sim.send(i, `n${i}-${k}`));
    }
    sim.at(2_400, () => sim.crash(first as number));
    sim.run(4_000);
    expect(sim.runUntilQuiet(60_000)).toBe(true);
    const live = [0, 1, 2, 3, 4].filter((i) => i !== first);
    const second = currentLeader(sim);
    expect(second).toBeDefined();
    expect(second).not.toBe(first);
    const per = deliveriesByNode(sim.history, 5);
    const seqs = live.map((i) => (per[i] ?? []).map((d) => key(d.from, d.seq)));
    for (const s of seqs) expect(s).toEqual(seqs[0]);
    const got = new Set(seqs[0]);
    expect(got.size).toBe(seqs[0]?.length);
    // Every message a live node sent is delivered.
    for (const h of sim.history)
      if (h.kind === "send" && h.node !== first) expect(got.has(key(h.node, h.seq))).toBe(true);
    // What the crashed leader delivered is a prefix of the survivors' order.
    const dead = (per[first as number] ?? []).map((d) => key(d.from, d.seq));
    expect(seqs[0]?.slice(0, dead.length)).toEqual(dead);
    for (const [, claimants] of selfClaims(sim)) expect(claimants.size).toBe(1);
  });

  it("a frozen leader (SIGSTOP) steps down on waking; never two leaders in one term", () => {
    const sim = new Sim({ seed: 12, hosts: 5, ordering: "total" });
    sim.run(2_000);
    const first = currentLeader(sim) as number;
    expect(first).toBeDefined();
    const stepDowns: LeaderEv[] = [];
    sim.onEvent = (n, ev) => {
      if (n === first && ev.type === "leader")
        stepDowns.push({ kind: "leader", t: sim.now, node: n, term: ev.term, leader: ev.leader });
    };
    sim.freeze(first, 3_000);
    for (let k = 0; k < 20; k++)
      sim.at(2_100 + k * 100, () => sim.send((first + 1) % 5, `during-${k}`));
    sim.run(4_900);
    const during = currentLeader(sim);
    sim.run(5_000);
    // On waking the old leader's first act is to give up leadership.
    expect(stepDowns[0]?.leader).not.toBe(first);
    sim.run(8_000);
    expect(sim.runUntilQuiet(30_000)).toBe(true);
    for (const [, claimants] of selfClaims(sim)) expect(claimants.size).toBe(1);
    expect(currentLeader(sim)).toBeDefined();
    expect(currentLeader(sim)).not.toBe(first);
    expect(during === undefined || during !== first).toBe(true);
    // Each node's current life has the whole order (the woken leader may have come back as a
    // new member: then its past arrives as history first); any earlier life saw a prefix of it.
    const per = deliveriesByNode(sim.history, 5);
    const lifeOf = (i: number) => sim.node(i)?.incarnation;
    const now = per.map((d, i) =>
      d.filter((x) => x.inc === lifeOf(i)).map((x) => key(x.from, x.seq)),
    );
    for (const s of now) expect(s.join(",")).toBe(now[0]?.join(","));
    expect(now[first]?.length).toBe(20);
    const earlier = (per[first] ?? []).filter((x) => x.inc !== lifeOf(first));
    const whole = now[0] ?? [];
    expect(earlier.map((x) => key(x.from, x.seq))).toEqual(whole.slice(0, earlier.length));
  });

  it("the minority side of a partition has no leader; after healing there is one view", () => {
    const sim = new Sim({ seed: 13, hosts: 5, ordering: "causal" });
    sim.run(2_000);
    sim.partition([0, 1], [2, 3, 4]);
    sim.run(6_000);
    for (const i of [0, 1]) expect(sim.node(i)?.status().leader).toBeUndefined();
    const majority = new Set([2, 3, 4].map((i) => sim.node(i)?.status().leader));
    expect(majority.size).toBe(1);
    expect([2, 3, 4]).toContain([...majority][0]);
    sim.heal();
    sim.run(10_000);
    const views = new Set([0, 1, 2, 3, 4].map((i) => JSON.stringify(sim.node(i)?.status().view)));
    expect(views.size).toBe(1);
    expect(JSON.parse([...views][0] as string).members).toHaveLength(5);
    for (const [, claimants] of selfClaims(sim)) expect(claimants.size).toBe(1);
  });
});

describe("agreement when a sender dies mid-multicast", () => {
  for (const ordering of ["fifo", "causal"] as const) {
    it(`${ordering}: what one member got from the dead sender is relayed to the others`, () => {
      const sim = new Sim({ seed: 21, hosts: 4, ordering });
      sim.run(2_000);
      sim.partition([3], [1, 2]); // 3's multicast reaches only node 0
      sim.send(3, "last words");
      sim.run(2_050);
      sim.send(0, "reply to last words"); // causally after 3's message
      sim.run(2_100);
      sim.crash(3);
      sim.heal();
      sim.run(6_000);
      expect(sim.runUntilQuiet(30_000)).toBe(true);
      const per = deliveriesByNode(sim.history, 4);
      for (const i of [0, 1, 2]) {
        const t = (per[i] ?? []).map((d) => d.text);
        // fifo promises nothing across senders; causal puts the cause first.
        if (ordering === "fifo") t.sort();
        expect(t).toEqual(["last words", "reply to last words"]);
      }
      // Relay buffers wait for the dead sender's return for releaseAfterMs (10 s), then let go.
      sim.run(sim.now + 11_000);
      for (const i of [0, 1, 2]) expect(sim.node(i)?.buffered().retained).toBe(0);
    });
  }
});
