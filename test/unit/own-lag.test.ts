import { describe, expect, it } from "vitest";
import { RmNode } from "../../src/core/node.js";
import { DEFAULT_LIMITS } from "../../src/core/types.js";

/**
 * Own lag (README: Membership): three nodes wired by hand. Node 0 reads its socket like the
 * UDP runtime does, at most READ a turn, one turn every TURN ms, and reports `caughtUp` only
 * after a turn that emptied the socket. Nodes 1 and 2 read at once. What node 0 says about
 * its peers' health is recorded.
 */
const READ = 32;
const TURN = 40;

interface Verdict {
  t: number;
  observer: number;
  peer: number;
  to: string;
}

class Wire {
  readonly nodes: RmNode[];
  /** Node 0's socket: datagrams waiting to be read, oldest first. */
  readonly socket: Array<{ from: number; bytes: Uint8Array }> = [];
  readonly verdicts: Verdict[] = [];
  readonly crashed = new Set<number>();
  /** Node 0 does not run at all until then (a stall: descheduled, SIGSTOP). */
  frozenUntil = 0;
  /** Turns at which node 0 read its socket empty (reported caught up). */
  readonly caughtUpAt: number[] = [];
  private next0 = 0;

  constructor(private readonly reports: boolean) {
    this.nodes = [0, 1, 2].map(
      (id) =>
        new RmNode({
          id,
          hostCount: 3,
          incarnation: 100 + id,
          ordering: "causal",
          limits: DEFAULT_LIMITS,
          random: () => 0.5,
          now: 0,
          reportsCaughtUp: id === 0 ? reports : false,
        }),
    );
  }

  private route(from: number, t: number): void {
    const out = (this.nodes[from] as RmNode).drain(t);
    for (const ev of out.events)
      if (ev.type === "health") this.verdicts.push({ t, observer: from, peer: ev.peer, to: ev.to });
    for (const d of out.datagrams) {
      if (this.crashed.has(d.to)) continue;
      if (d.to === 0) this.socket.push({ from, bytes: d.bytes });
      else (this.nodes[d.to] as RmNode).receive(t, from, d.bytes);
    }
  }

  /** Run until `end`, 1 ms at a time for nodes 1 and 2, a turn every TURN ms for node 0. */
  run(end: number, t0: number): void {
    for (let t = t0; t < end; t++) {
      for (const i of [1, 2]) {
        if (this.crashed.has(i)) continue;
        const n = this.nodes[i] as RmNode;
        if ((n.nextWake() ?? Number.POSITIVE_INFINITY) <= t) n.tick(t);
        this.route(i, t);
      }
      if (t >= this.frozenUntil && t >= this.next0) this.turn0(t);
    }
  }

  /** One event-loop turn of node 0: read, report how far, run due timers, send. */
  private turn0(t: number): void {
    this.next0 = t + TURN;
    const n = this.nodes[0] as RmNode;
    const batch = this.socket.splice(0, READ);
    for (const d of batch) n.receive(t, d.from, d.bytes);
    if (batch.length < READ) this.caughtUpAt.push(t);
    if (batch.length < READ && this.reports) n.caughtUp(t, t);
    if ((n.nextWake() ?? Number.POSITIVE_INFINITY) <= t) n.tick(t);
    this.route(0, t);
  }

  deadSaidBy0(): Verdict[] {
    return this.verdicts.filter((v) => v.observer === 0 && v.to === "dead");
  }
}

/** A settled group; then node 1 floods node 0's socket with 1000 datagrams at once. */
function flood(reports: boolean): Wire {
  const w = new Wire(reports);
  w.run(1000, 0);
  for (let k = 0; k < 1000; k++) (w.nodes[1] as RmNode).send(1000, `${k}:${"x".repeat(1000)}`);
  return w;
}

describe("own lag: a process behind on its input does not blame its peers", () => {
  it("reading a backlog behind a flood, it declares nobody dead (node 2's heartbeats wait in the socket)", () => {
    const w = flood(true);
    w.run(5000, 1000);
    expect(w.deadSaidBy0()).toEqual([]);
    expect((w.nodes[0] as RmNode).health(2)).toBe("alive");
    expect(w.socket.length).toBe(0); // the backlog was read: the scenario really was behind
  });

  it("negative control: judged at the clock, the same backlog makes node 2 look dead", () => {
    const w = flood(false);
    w.run(5000, 1000);
    expect(w.deadSaidBy0().map((v) => v.peer)).toContain(2);
  });

  it("behind, a peer that really crashed is still declared dead once the backlog is read", () => {
    const w = flood(true);
    w.crashed.add(2);
    w.run(6000, 1000);
    const dead = w.deadSaidBy0();
    expect(dead.map((v) => v.peer)).toEqual([2]);
    // Not before the socket had been read empty: the flood is a real backlog (its 1000
    // datagrams take READ a turn, about 1.2 s to read), and the verdict comes after node 0
    // caught up with it.
    const emptied = w.caughtUpAt.find((t) => t > 1000) ?? Number.POSITIVE_INFINITY;
    expect(emptied).toBeGreaterThanOrEqual(1000 + Math.floor(1000 / READ) * TURN);
    expect(dead[0]?.t).toBeGreaterThanOrEqual(emptied);
  });

  it("stalled for 2 s, it reads the heartbeats that waited and declares nobody dead", () => {
    const w = new Wire(true);
    w.run(1000, 0);
    w.frozenUntil = 3000;
    w.run(5000, 1000);
    expect(w.deadSaidBy0()).toEqual([]);
    expect(w.verdicts.filter((v) => v.observer === 0 && v.to === "suspect")).toEqual([]);
  });

  it("an idle process still declares a crashed peer dead within deadAfterMs (plus one turn)", () => {
    const w = new Wire(true);
    w.run(1000, 0);
    const lastHeard = 1000;
    w.crashed.add(2);
    w.run(4000, 1000);
    const dead = w.deadSaidBy0();
    expect(dead.map((v) => v.peer)).toEqual([2]);
    const cfg = (w.nodes[0] as RmNode).membership;
    expect(dead[0]?.t).toBeLessThanOrEqual(lastHeard + cfg.deadAfterMs + TURN);
  });
});
