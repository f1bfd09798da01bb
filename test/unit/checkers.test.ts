import { describe, expect, it } from "vitest";
import {
  agreement,
  boundedness,
  type Checker,
  causal,
  checkTrace,
  fifo,
  integrity,
  total,
  validity,
} from "../../src/fuzz/checkers.js";
import type { NodeFinal, Trace, TraceEvent } from "../../src/fuzz/trace.js";

/** The membership part of a settled node's final state. */
const QUIET = { retained: 0, leader: 0, term: 1, view: { term: 1, version: 1, members: [0, 1] } };

/** Hand-written histories: node i's first life has incarnation 1001 + i, its second 2001 + i. */
class H {
  readonly events: TraceEvent[] = [];
  private t = 0;
  private readonly inc = new Map<number, number>();
  private readonly seq = new Map<string, number>();
  final: NodeFinal[] | undefined;

  constructor(
    readonly nodes: number,
    late: number[] = [],
  ) {
    for (let i = 0; i < nodes; i++) if (!late.includes(i)) this.start(i);
  }
  private tick(): number {
    return ++this.t;
  }
  private cur(node: number): number {
    return this.inc.get(node) ?? 0;
  }
  start(node: number): this {
    const inc = this.cur(node) === 0 ? 1001 + node : this.cur(node) + 1000;
    this.inc.set(node, inc);
    this.events.push({ kind: "start", t: this.tick(), node, inc });
    return this;
  }
  crash(node: number): this {
    this.events.push({ kind: "crash", t: this.tick(), node });
    return this;
  }
  /** Node sends `text` (seq numbers count per life). */
  send(node: number, text: string): this {
    const inc = this.cur(node);
    const seq = (this.seq.get(`${node}@${inc}`) ?? 0) + 1;
    this.seq.set(`${node}@${inc}`, seq);
    this.events.push({ kind: "send", t: this.tick(), node, inc, seq, text });
    return this;
  }
  deliver(node: number, from: number, seq: number, text: string, vc?: number[]): this {
    const e: TraceEvent = {
      kind: "deliver",
      t: this.tick(),
      node,
      inc: this.cur(node),
      from,
      seq,
      text,
    };
    if (vc) e.vc = vc;
    this.events.push(e);
    return this;
  }
  /** `node` learns the current incarnation of `peer`. */
  learn(node: number, peer: number): this {
    this.events.push({
      kind: "learn",
      t: this.tick(),
      node,
      inc: this.cur(node),
      peer,
      peerInc: this.cur(peer),
    });
    return this;
  }
  /** Send and deliver everywhere in node order (a well-behaved broadcast). */
  bcast(node: number, text: string): this {
    this.send(node, text);
    const seq = this.seq.get(`${node}@${this.cur(node)}`) ?? 0;
    for (let i = 0; i < this.nodes; i++) if (this.inc.has(i)) this.deliver(i, node, seq, text);
    return this;
  }
  trace(): Trace {
    const live = [...this.inc.keys()].filter((n) => !this.downNow(n));
    const final =
      this.final ??
      live.map((node) => ({
        node,
        heldBack: 0,
        unackedToLive: 0,
        outOfOrderFromLive: 0,
        ...QUIET,
      }));
    return { nodes: this.nodes, events: this.events, final };
  }
  private downNow(node: number): boolean {
    for (let i = this.events.length - 1; i >= 0; i--) {
      const e = this.events[i];
      if (e?.node !== node) continue;
      if (e.kind === "crash") return true;
      if (e.kind === "start") return false;
    }
    return true;
  }
}

const accepts = (c: Checker, h: H) => expect(c(h.trace())).toBeNull();
const rejects = (c: Checker, h: H, msg: RegExp) => expect(c(h.trace())).toMatch(msg);

describe("integrity", () => {
  it("accepts a history where each life delivers each sent message once", () => {
    accepts(integrity, new H(3).bcast(0, "a").bcast(1, "b").bcast(0, ""));
  });
  it("accepts a restarted life delivering again what its earlier life delivered", () => {
    const h = new H(2).bcast(0, "a").crash(1).start(1).deliver(1, 0, 1, "a");
    accepts(integrity, h);
  });
  it("rejects a delivery of a message never sent", () => {
    rejects(integrity, new H(2).bcast(0, "a").deliver(1, 0, 2, "b"), /^integrity: .*never sent/);
  });
  it("rejects a delivery whose text differs from what was sent", () => {
    rejects(integrity, new H(2).send(0, "a").deliver(1, 0, 1, "A"), /never sent/);
  });
  it("rejects a duplicate delivery", () => {
    rejects(integrity, new H(2).bcast(0, "a").deliver(1, 0, 1, "a"), /^integrity: .*twice/);
  });
  it("rejects a delivery before the send", () => {
    const h = new H(2).deliver(1, 0, 1, "a").send(0, "a");
    rejects(integrity, h, /before it was sent/);
  });
  it("rejects a delivery by a node that is down", () => {
    const h = new H(2).send(0, "a").crash(1);
    h.events.push({ kind: "deliver", t: 99, node: 1, inc: 1002, from: 0, seq: 1, text: "a" });
    rejects(integrity, h, /not up/);
  });
  it("rejects a history whose sends cannot be told apart", () => {
    const h = new H(2).send(0, "a").crash(0).start(0).send(0, "a");
    rejects(integrity, h, /cannot tell them apart/);
  });
});

describe("validity", () => {
  it("accepts when every message of a live sender reached every live node", () => {
    accepts(validity, new H(3).bcast(0, "a").bcast(2, "b"));
  });
  it("rejects a message of a live sender missing at a live node", () => {
    const h = new H(3).send(0, "a").deliver(0, 0, 1, "a").deliver(1, 0, 1, "a");
    rejects(validity, h, /^validity: live node 2 .*never delivered 0#1/);
  });
  it("rejects a message the sender itself never delivered", () => {
    const h = new H(2).send(0, "a").deliver(1, 0, 1, "a");
    rejects(validity, h, /^validity: live node 0 /);
  });
  it("ignores nodes that crashed and messages of senders that crashed", () => {
    const h = new H(3).send(0, "a").deliver(0, 0, 1, "a").deliver(1, 0, 1, "a").crash(2);
    h.send(1, "b").deliver(1, 1, 1, "b").crash(1);
    accepts(validity, h);
  });
  it("owes a restarted node only what was sent after the sender learned its new life", () => {
    const h = new H(2).bcast(0, "a").crash(1).start(1).send(0, "b").deliver(0, 0, 2, "b");
    accepts(validity, h);
    h.learn(0, 1).send(0, "c").deliver(0, 0, 3, "c");
    rejects(validity, h, /^validity: live node 1 \(inc 2002\) never delivered 0#3/);
  });
  it("owes a late starter everything (its first life)", () => {
    const h = new H(2, [1]).bcast(0, "a").start(1);
    rejects(validity, h, /node 1 \(inc 1002\) never delivered 0#1/);
  });
});

describe("agreement", () => {
  it("accepts a crashed sender's message delivered by every live node", () => {
    accepts(agreement, new H(3).bcast(2, "a").crash(2));
  });
  it("rejects a crashed sender's message delivered by one live node only", () => {
    const h = new H(3).send(2, "a").deliver(2, 2, 1, "a").deliver(0, 2, 1, "a").crash(2);
    rejects(
      agreement,
      h,
      /^agreement: live node 1 .*never delivered 2#1 .*node 0 \(inc 1001\) delivered it/,
    );
  });
  it("accepts a message only a node that crashed delivered", () => {
    const h = new H(3).send(2, "a").deliver(2, 2, 1, "a").deliver(0, 2, 1, "a").crash(2).crash(0);
    accepts(agreement, h);
  });
});

describe("fifo", () => {
  it("accepts per-sender send order with senders interleaved", () => {
    const h = new H(2).send(0, "a").send(0, "b").send(1, "x");
    h.deliver(1, 1, 1, "x").deliver(1, 0, 1, "a").deliver(1, 0, 2, "b");
    h.deliver(0, 0, 1, "a").deliver(0, 1, 1, "x").deliver(0, 0, 2, "b");
    accepts(fifo, h);
  });
  it("rejects a reversal", () => {
    const h = new H(2).send(0, "a").send(0, "b").deliver(1, 0, 2, "b").deliver(1, 0, 1, "a");
    rejects(fifo, h, /^fifo: node 1 .*delivered 0#2 "b" without first delivering 0#1 "a"/);
  });
  it("rejects a message delivered after a later one", () => {
    const h = new H(2).send(0, "a").send(0, "b").send(0, "c");
    h.deliver(1, 0, 1, "a").deliver(1, 0, 3, "c");
    rejects(fifo, h, /without first delivering 0#2/);
    const g = new H(2).send(0, "a").send(0, "b").deliver(1, 0, 1, "a").deliver(1, 0, 2, "b");
    g.deliver(1, 0, 1, "a");
    rejects(fifo, g, /delivered 0#1 "a" after 0#2 "b"/);
  });
  it("rejects a gap at the start of a first life", () => {
    rejects(fifo, new H(2).send(0, "a").send(0, "b").deliver(1, 0, 2, "b"), /without first/);
  });
  it("lets a restarted life begin in the middle of a stream, then demands no gaps", () => {
    const h = new H(2).send(0, "a").crash(1).start(1).send(0, "b").send(0, "c").send(0, "d");
    h.deliver(1, 0, 2, "b").deliver(1, 0, 3, "c");
    accepts(fifo, h);
    rejects(fifo, h.send(0, "e").deliver(1, 0, 5, "e"), /without first delivering 0#4 "d"/);
  });
});

describe("causal", () => {
  // 0 sends a; 1 delivers a, then sends b: send(a) happened-before send(b).
  const chain = () =>
    new H(3).send(0, "a").deliver(0, 0, 1, "a").deliver(1, 0, 1, "a").send(1, "b");
  it("accepts deliveries that respect happened-before", () => {
    const h = chain().deliver(1, 1, 1, "b").deliver(2, 0, 1, "a").deliver(2, 1, 1, "b");
    accepts(causal, h.deliver(0, 1, 1, "b"));
  });
  it("rejects b before a at a third node", () => {
    const h = chain().deliver(1, 1, 1, "b").deliver(2, 1, 1, "b").deliver(2, 0, 1, "a");
    rejects(causal, h, /^causal: node 2 .*delivered 1#1 "b" before 0#1 "a"/);
  });
  it("rejects a violation through a chain of two hops", () => {
    const h = chain().deliver(1, 1, 1, "b").deliver(2, 0, 1, "a").deliver(2, 1, 1, "b");
    h.send(2, "c").deliver(0, 2, 1, "c");
    rejects(causal, h, /node 0 .*delivered 2#1 "c" before 1#1 "b"/);
  });
  it("rejects a sender's own order broken (fifo is part of causal)", () => {
    const h = new H(2).send(0, "a").send(0, "b").deliver(1, 0, 2, "b");
    rejects(causal, h, /delivered 0#2 "b" before 0#1 "a"/);
  });
  it("accepts concurrent messages in different orders at different nodes", () => {
    const h = new H(3).send(0, "a").send(1, "b");
    h.deliver(2, 0, 1, "a").deliver(2, 1, 1, "b").deliver(0, 1, 1, "b").deliver(0, 0, 1, "a");
    accepts(causal, h);
  });
  it("judges from the history, not from the vector clocks the protocol stamped", () => {
    // The stamps claim b is concurrent with a; the history says otherwise.
    const h = chain().deliver(2, 1, 1, "b", [0, 1, 0]).deliver(2, 0, 1, "a", [1, 0, 0]);
    rejects(causal, h, /before 0#1 "a"/);
  });
});

describe("total", () => {
  it("accepts identical sequences and a crashed node's prefix", () => {
    const h = new H(3).bcast(0, "a").bcast(1, "b").crash(2).bcast(0, "c");
    accepts(total, h);
  });
  it("rejects two nodes delivering the same two messages in opposite orders", () => {
    const h = new H(2).send(0, "a").send(1, "b");
    h.deliver(0, 0, 1, "a").deliver(0, 1, 1, "b").deliver(1, 1, 1, "b").deliver(1, 0, 1, "a");
    rejects(total, h, /^total: node 0 .*delivered 0#1 "a" before 1#1 "b" but node 1 .*other way/);
  });
  it("rejects sequences that are not prefixes of one another", () => {
    const h = new H(2).send(0, "a").send(1, "b").send(0, "c");
    h.deliver(0, 0, 1, "a").deliver(0, 1, 1, "b").deliver(1, 0, 1, "a").deliver(1, 0, 2, "c");
    rejects(total, h, /^total: delivered sequences are not prefixes .*delivery 2 is 1#1 "b"/);
  });
});

describe("boundedness", () => {
  it("accepts empty buffers on every live node, whatever a crashed node held", () => {
    const h = new H(2).crash(1);
    h.final = [{ node: 0, heldBack: 0, unackedToLive: 0, outOfOrderFromLive: 0, ...QUIET }];
    accepts(boundedness, h);
  });
  for (const field of ["heldBack", "unackedToLive", "outOfOrderFromLive", "retained"] as const) {
    it(`rejects ${field} left after quiescence`, () => {
      const h = new H(2);
      h.final = [
        { node: 0, heldBack: 0, unackedToLive: 0, outOfOrderFromLive: 0, ...QUIET },
        { node: 1, heldBack: 0, unackedToLive: 0, outOfOrderFromLive: 0, ...QUIET, [field]: 2 },
      ];
      rejects(boundedness, h, /^boundedness: after quiescence node 1 .* 2 /);
    });
  }
  it("rejects a live node with no final state", () => {
    const h = new H(2);
    h.final = [{ node: 0, heldBack: 0, unackedToLive: 0, outOfOrderFromLive: 0, ...QUIET }];
    rejects(boundedness, h, /no final state recorded for live node 1/);
  });
});

describe("checkTrace", () => {
  it("applies causal only in causal mode and total only in total mode", () => {
    const h = new H(2).send(0, "a").send(1, "b");
    h.deliver(0, 0, 1, "a").deliver(0, 1, 1, "b").deliver(1, 1, 1, "b").deliver(1, 0, 1, "a");
    expect(checkTrace("fifo", h.trace())).toEqual([]);
    expect(checkTrace("causal", h.trace())).toEqual([]);
    expect(checkTrace("total", h.trace())).toEqual([expect.stringMatching(/^total:/)]);
  });
});
