import { describe, expect, it } from "vitest";
import { RmNode } from "../../src/core/node.js";
import { DEFAULT_LIMITS } from "../../src/core/types.js";
import { encodeFrame } from "../../src/core/wire.js";
import { Sim } from "../../src/runtime/sim.js";
import { deliveriesByNode } from "../helpers/history.js";

const texts = (sim: Sim, node: number) =>
  deliveriesByNode(sim.history, sim.size)[node]?.map((d) => `${d.from}:${d.text}`) ?? [];

describe("RmNode", () => {
  it("a node that starts late receives what it missed", () => {
    const sim = new Sim({ seed: 1, hosts: 3, ordering: "causal", lateStart: [0] });
    sim.send(1, "early-1");
    sim.send(2, "early-2");
    sim.run(10_000); // node 0 absent: capped backoff and a slow heartbeat, not a busy loop
    expect(sim.sentTo[0]).toBeLessThan(60);
    sim.start(0);
    sim.run(sim.now + 3_000); // found, then admitted by a view change
    expect(sim.runUntilQuiet(30_000)).toBe(true);
    // State transfer: what it missed arrives as history, before its first view.
    const d = deliveriesByNode(sim.history, 3)[0] ?? [];
    expect(d.map((x) => `${x.from}:${x.text}`).sort()).toEqual(["1:early-1", "2:early-2"]);
    expect(d.every((x) => x.history === true)).toBe(true);
  });

  it("total order waits for a leader, says why, and goes on once a quorum is up", () => {
    const sim = new Sim({ seed: 2, hosts: 3, ordering: "total", lateStart: [0, 2] });
    const notices: string[] = [];
    sim.onEvent = (_n, ev) => {
      if (ev.type === "notice") notices.push(ev.msg);
    };
    sim.send(1, "a");
    sim.run(3_000);
    expect(texts(sim, 1)).toEqual([]);
    expect(notices).toContain("waiting for leader: 1 of 3 up, need 2");
    sim.start(2);
    sim.send(2, "b");
    expect(sim.runUntilQuiet(30_000)).toBe(true);
    expect(texts(sim, 1).sort()).toEqual(["1:a", "2:b"]);
    expect(texts(sim, 2)).toEqual(texts(sim, 1));
  });

  it("a restarted peer (new incarnation) gets new messages, not dropped as duplicates", () => {
    const sim = new Sim({ seed: 3, hosts: 2, ordering: "fifo" });
    for (let i = 0; i < 5; i++) sim.send(0, `old-${i}`);
    expect(sim.runUntilQuiet(10_000)).toBe(true);
    sim.crash(1);
    sim.start(1);
    sim.send(1, "hello again"); // announces the new incarnation
    sim.run(sim.now + 1_000);
    sim.send(0, "new-0");
    expect(sim.runUntilQuiet(10_000)).toBe(true);
    const d = deliveriesByNode(sim.history, 2)[1] ?? [];
    const inc = sim.node(1)?.incarnation;
    const mine = d.filter((x) => x.inc === inc);
    // The group's past as history (old-0..4), then the new life's own view: nothing twice.
    expect(mine.filter((x) => !x.history).map((x) => x.text)).toEqual(["hello again", "new-0"]);
    expect(mine.filter((x) => x.history).map((x) => x.text)).toEqual([
      "old-0",
      "old-1",
      "old-2",
      "old-3",
      "old-4",
    ]);
    expect(texts(sim, 0)).toContain("1:hello again");
  });

  it("ignores an ack addressed to an earlier incarnation (no stale ack honoured)", () => {
    const sim = new Sim({ seed: 5, hosts: 2, ordering: "fifo" });
    sim.run(3_000); // a leader and a view of both
    expect(sim.node(0)?.status().view.members.length).toBe(2);
    const inc1 = sim.node(1)?.incarnation ?? 0;
    sim.crash(1); // nobody acknowledges from now on
    sim.send(0, "x");
    const a = sim.node(0) as RmNode;
    expect(a.stats().unacked).toBe(1);
    const ch = (a as unknown as { peers: Array<{ send: { nextSeq: number } }> }).peers[1]?.send;
    const cum = (ch?.nextSeq ?? 1) - 1;
    const ack = (toInc: number) =>
      encodeFrame({
        from: 1,
        inc: inc1,
        to: 0,
        toInc,
        ack: { echo: 0, cum, sacks: [] },
        data: [],
        base: 1,
        ctrl: [],
        frame: 1,
        top: 0,
      });
    sim.inject(0, 1, ack(a.incarnation - 1));
    expect(a.stats().unacked).toBe(1);
    sim.inject(0, 1, ack(a.incarnation));
    expect(a.stats().unacked).toBe(0);
  });

  it("drops a frame whose source address is not the claimed sender's", () => {
    const limits = { ...DEFAULT_LIMITS };
    const a = new RmNode({
      id: 0,
      hostCount: 3,
      incarnation: 5,
      ordering: "fifo",
      limits,
      random: Math.random,
    });
    const f = encodeFrame({
      from: 1,
      inc: 9,
      to: 0,
      toInc: 0,
      ack: null,
      data: [],
      base: 1,
      ctrl: [],
      frame: 1,
      top: 0,
    });
    expect(a.receive(0, 2, f)).toBe(false);
    expect(a.receive(0, undefined, f)).toBe(false);
    expect(a.stats().dropped["wrong-source"]).toBe(2);
    expect(a.receive(0, 1, f)).toBe(true);
  });

  it("fragments a 64 KiB message and reassembles it everywhere; refuses a larger one", () => {
    const sim = new Sim({
      seed: 4,
      hosts: 3,
      ordering: "causal",
      faults: { delay: 0.005, drop: 0.2 },
    });
    const big = "é".repeat(32_000); // 64,000 bytes of UTF-8
    expect(sim.send(0, big)).toBe(true);
    expect(sim.send(1, "x".repeat(65_537))).toBe(false);
    const refused = sim.history.find((h) => h.kind === "refused");
    expect(refused && refused.kind === "refused" && refused.error).toMatch(
      /message too large: 65537 bytes/,
    );
    expect(sim.runUntilQuiet(60_000)).toBe(true);
    for (const n of [1, 2]) expect(texts(sim, n)).toEqual([`0:${big}`]);
  });

  it("refuses sends once a peer's backlog is full, and accepts again when it drains", () => {
    const sim = new Sim({
      seed: 5,
      hosts: 2,
      ordering: "fifo",
      limits: { maxBacklog: 10, window: 4 },
      lateStart: [1],
    });
    const ok = Array.from({ length: 12 }, (_, i) => sim.send(0, `m${i}`));
    expect(ok.filter(Boolean)).toHaveLength(10);
    sim.start(1);
    expect(sim.runUntilQuiet(30_000)).toBe(true);
    expect(sim.send(0, "later")).toBe(true);
    expect(sim.runUntilQuiet(30_000)).toBe(true);
    expect(texts(sim, 1)).toHaveLength(11);
  });
});
