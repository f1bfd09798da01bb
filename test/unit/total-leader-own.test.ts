import { describe, expect, it } from "vitest";
import type { NodeEvent } from "../../src/core/node-types.js";
import { Sim } from "../../src/runtime/sim.js";

/**
 * Total order: the leader multicasts no body of its own; its appends carry its own texts.
 * Its sender still sees each follower's acknowledgement ("acked" events, counted once the
 * follower's log holds the message), and followers deliver its messages.
 */
describe("total order: the leader's own messages", () => {
  function run(down: number[] = []) {
    const sim = new Sim({ seed: 7, hosts: 3, ordering: "total", lateStart: down });
    const acked = new Map<number, Set<number>>();
    const ackedBy = new Map<number, number>();
    let leader = -1;
    const events: Array<{ node: number; ev: NodeEvent }> = [];
    sim.onEvent = (node, ev) => {
      events.push({ node, ev });
      if (ev.type === "acked" && node === leader) {
        const s = acked.get(ev.seq) ?? new Set<number>();
        s.add(ev.peer);
        acked.set(ev.seq, s);
        ackedBy.set(ev.seq, ev.by);
      }
    };
    sim.run(3000);
    for (let i = 0; i < 3; i++) if (sim.node(i)?.status().role === "leader") leader = i;
    expect(leader).toBeGreaterThanOrEqual(0);
    for (let k = 0; k < 20; k++) sim.send(leader, `own ${k}`);
    sim.run(sim.now + 2000);
    return { sim, leader, acked, ackedBy, events };
  }

  it("reach every follower inside appends, and each follower's storing is acknowledged once", () => {
    const { sim, leader, acked, ackedBy, events } = run();
    for (let i = 0; i < 3; i++) {
      const texts = sim.history
        .filter((h) => h.kind === "deliver" && h.node === i && h.from === leader)
        .map((h) => (h.kind === "deliver" ? h.text : ""));
      expect(texts).toEqual(Array.from({ length: 20 }, (_, k) => `own ${k}`));
    }
    // (testdata/total-log.txt shows the appends carrying the texts and no submit.)
    for (let seq = 1; seq <= 20; seq++) {
      expect([...(acked.get(seq) ?? [])].sort()).toEqual([0, 1, 2].filter((p) => p !== leader));
      expect(ackedBy.get(seq)).toBe(2);
    }
    const perPair = new Map<string, number>();
    for (const { node, ev } of events)
      if (ev.type === "acked" && node === leader) {
        const k = `${ev.seq}/${ev.peer}`;
        perPair.set(k, (perPair.get(k) ?? 0) + 1);
      }
    expect([...perPair.values()].every((n) => n === 1)).toBe(true);
  });

  it("a configured host that is down is not waited for: each is acked 1/1, no count is kept", () => {
    const { sim, leader, acked, ackedBy } = run([2]);
    expect(leader).not.toBe(2);
    for (let seq = 1; seq <= 20; seq++) {
      expect([...(acked.get(seq) ?? [])]).toEqual([1 - leader]);
      expect(ackedBy.get(seq)).toBe(1);
    }
    // The node's per-message ack counts are gone once complete (no growth per message).
    const counts = (sim.node(leader) as unknown as { ackCount: Map<number, number> }).ackCount;
    expect(counts.size).toBe(0);
  });
});
