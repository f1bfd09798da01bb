import { describe, expect, it } from "vitest";
import { decodeCtrl, encodeCtrl } from "../../src/core/ctrl.js";
import { defaultMembership } from "../../src/core/membership/config.js";
import { Election, type ElectionOut } from "../../src/core/membership/election.js";
import type { NodeEvent } from "../../src/core/node.js";
import { Sim } from "../../src/runtime/sim.js";

interface Lease {
  node: number;
  from: number;
  to: number;
}

/** Every node's lease intervals (from a held=true event to the next held=false, or the end). */
function watchLeases(sim: Sim): () => Lease[] {
  const open = new Map<number, number>();
  const done: Lease[] = [];
  const prev = sim.onEvent;
  sim.onEvent = (n: number, ev: NodeEvent) => {
    prev?.(n, ev);
    if (ev.type !== "lease") return;
    if (ev.held) open.set(n, sim.now);
    else if (open.has(n)) {
      done.push({ node: n, from: open.get(n) as number, to: sim.now });
      open.delete(n);
    }
  };
  return () => [...done, ...[...open].map(([node, from]) => ({ node, from, to: sim.now }))];
}

function leaderOf(sim: Sim, among: number[]): number | undefined {
  const ls = new Set(among.map((i) => sim.node(i)?.status().leader));
  return ls.size === 1 ? [...ls][0] : undefined;
}

function overlaps(leases: Lease[]): Lease[][] {
  const bad: Lease[][] = [];
  for (const a of leases)
    for (const b of leases)
      if (a !== b && a.node < b.node && a.from < b.to && b.from < a.to) bad.push([a, b]);
  return bad;
}

describe("leadership transfer (timeout-now)", () => {
  it("the successor leads within a few round trips; the leases never overlap", () => {
    const sim = new Sim({
      seed: 31,
      hosts: 5,
      ordering: "total",
      faults: { delay: 0.002, drop: 0 },
    });
    const leases = watchLeases(sim);
    sim.run(2_000);
    const first = leaderOf(sim, [0, 1, 2, 3, 4]) as number;
    expect(first).toBeDefined();
    let target: number | undefined;
    sim.act(first, (n, now) => {
      target = n.transferLeadership(now);
    });
    expect(target).toBeDefined();
    expect(target).not.toBe(first);
    // The first live member after the leader in the view: NAME-1 becomes NAME-0.
    expect(target).toBe(sim.node(first)?.status().view.members[1]);
    // The old leader gave up at once.
    expect(sim.node(first)?.status().role).toBe("follower");
    const t0 = sim.now;
    // A fraction of the election timeout (500 ms): no failure detection involved.
    sim.run(t0 + 60);
    expect(leaderOf(sim, [0, 1, 2, 3, 4])).toBe(target);
    expect(sim.node(target as number)?.status().view.members[0]).toBe(target);
    sim.crash(first); // the old leader's agent exits
    sim.run(t0 + 3_000);
    expect(
      leaderOf(
        sim,
        [0, 1, 2, 3, 4].filter((i) => i !== first),
      ),
    ).toBe(target);
    expect(overlaps(leases())).toEqual([]);
    expect(leases().filter((l) => l.node === (target as number)).length).toBeGreaterThan(0);
  });

  it("negative control: without the transfer, a stopped leader is replaced only after an election timeout", () => {
    const sim = new Sim({
      seed: 31,
      hosts: 5,
      ordering: "total",
      faults: { delay: 0.002, drop: 0 },
    });
    sim.run(2_000);
    const first = leaderOf(sim, [0, 1, 2, 3, 4]) as number;
    const t0 = sim.now;
    sim.crash(first);
    const rest = [0, 1, 2, 3, 4].filter((i) => i !== first);
    sim.run(t0 + 60);
    const l = leaderOf(sim, rest);
    expect(l === undefined || l === first).toBe(true);
  });

  it("a transfer in a lossy network never gives two overlapping leases (many seeds)", () => {
    for (let seed = 100; seed < 130; seed++) {
      const sim = new Sim({
        seed,
        hosts: 5,
        ordering: "total",
        faults: { delay: 0.005, drop: 0.15 },
      });
      const leases = watchLeases(sim);
      sim.run(2_000);
      const first = leaderOf(sim, [0, 1, 2, 3, 4]);
      if (first === undefined) continue;
      sim.act(first, (n, now) => void n.transferLeadership(now));
      sim.run(2_100);
      sim.crash(first);
      sim.run(6_000);
      expect(overlaps(leases()), `seed ${seed}`).toEqual([]);
      // Someone else held a lease after the transfer: the group did not stay leaderless.
      expect(
        leases().some((l) => l.node !== first && l.from >= 2_000),
        `seed ${seed}`,
      ).toBe(true);
    }
  });

  it("a follower does not transfer; a transfer to a dead member is refused", () => {
    const sim = new Sim({ seed: 32, hosts: 3, ordering: "total" });
    sim.run(2_000);
    const first = leaderOf(sim, [0, 1, 2]) as number;
    const follower = (first + 1) % 3;
    let r: number | undefined = -1;
    sim.act(follower, (n, now) => {
      r = n.transferLeadership(now);
    });
    expect(r).toBeUndefined();
    const other = (first + 2) % 3;
    sim.crash(other);
    sim.run(4_000);
    sim.act(first, (n, now) => {
      r = n.transferLeadership(now, other);
    });
    expect(r).toBeUndefined();
    expect(sim.node(first)?.status().role).toBe("leader");
  });
});

describe("election: timeout-now and the transfer flag", () => {
  const cfg = defaultMembership(3);
  const make = (self: number) =>
    new Election(
      self,
      3,
      cfg,
      () => 0.5,
      { term: 0, votedFor: -1 },
      0,
      () => ({
        lastIndex: 0,
        lastTerm: 0,
      }),
    );

  /** A follower of leader 0 in term 3, having just heard its heartbeat. */
  const follower = (self: number): Election => {
    const e = make(self);
    e.receive(0, { t: "leader-hb", term: 3, round: 1 }, 10, []);
    return e;
  };

  it("timeout-now from the leader starts an election at once, flagged as a transfer", () => {
    const e = follower(1);
    const out: ElectionOut = [];
    e.receive(0, { t: "timeout-now", term: 3 }, 20, out);
    expect(e.role).toBe("candidate");
    expect(e.term).toBe(4);
    expect(out).toEqual([
      { to: "all", msg: { t: "vote-req", term: 4, lastIndex: 0, lastTerm: 0, transfer: true } },
    ]);
  });

  it("timeout-now from another node, or of another term, is ignored", () => {
    for (const [from, term] of [
      [2, 3],
      [0, 2],
      [0, 4],
    ] as const) {
      const e = follower(1);
      const out: ElectionOut = [];
      e.receive(from, { t: "timeout-now", term }, 20, out);
      expect(out).toEqual([]);
      expect(e.role).toBe("follower");
    }
  });

  it("a follower that heard its leader refuses a plain vote request but grants a transfer's", () => {
    const plain = follower(2);
    const out1: ElectionOut = [];
    plain.receive(1, { t: "vote-req", term: 4, lastIndex: 0, lastTerm: 0 }, 20, out1);
    expect(out1).toEqual([{ to: 1, msg: { t: "vote-resp", term: 3, granted: false } }]);
    const flagged = follower(2);
    const out2: ElectionOut = [];
    flagged.receive(
      1,
      { t: "vote-req", term: 4, lastIndex: 0, lastTerm: 0, transfer: true },
      20,
      out2,
    );
    expect(out2).toEqual([{ to: 1, msg: { t: "vote-resp", term: 4, granted: true } }]);
  });

  it("the wire codec keeps the flag and the new message, and rejects malformed ones", () => {
    const msgs = [
      { t: "timeout-now", term: 7 },
      { t: "vote-req", term: 7, lastIndex: 3, lastTerm: 2, transfer: true },
      { t: "vote-req", term: 7, lastIndex: 3, lastTerm: 2 },
    ] as const;
    for (const m of msgs) expect(decodeCtrl(encodeCtrl(m), 3)).toEqual(m);
    expect(decodeCtrl([10], 3)).toBeNull();
    expect(decodeCtrl([10, -1], 3)).toBeNull();
    expect(decodeCtrl([5, 7, 3, 2, 2], 3)).toBeNull();
    expect(decodeCtrl([5, 7, 3, 2, 1, 1], 3)).toBeNull();
  });
});
