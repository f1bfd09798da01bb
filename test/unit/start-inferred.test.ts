import { describe, expect, it } from "vitest";
import { PERFECT_LINK, Sim } from "../../src/runtime/sim.js";

/**
 * fifo/causal: a member sends in a new view only once the leader's `start` says everyone
 * installed it. When the leader crashes after its `start` reached some members only, those
 * send at once, and a message one of them sent in the view tells the others that everyone
 * installed it: they start too, instead of waiting for the next leader's view after the
 * dead verdict (0.8 s). Here the leader's datagrams to two members are lost from the moment
 * those two installed the group's first view (so their reports reach it, its `start` does
 * not), and the leader crashes 5 ms later.
 */
describe("a member infers the start of its view from a message sent in it (simulated)", () => {
  for (const seed of [1, 2, 3, 4]) {
    it(`seed ${seed}: the members the leader's start missed send within a few ms`, () => {
      const probe = new Sim({ seed, hosts: 4, ordering: "causal" });
      probe.run(3_000);
      const leader = probe.node(0)?.status().leader as number;
      const others = [0, 1, 2, 3].filter((i) => i !== leader);
      const [reached, a, b] = others as [number, number, number];
      const installedAt = (i: number) =>
        probe.history.find((h) => h.kind === "view" && h.node === i && h.members.length === 4)
          ?.t as number;
      const cutAt = Math.max(installedAt(a), installedAt(b));
      const sim = new Sim({
        seed,
        hosts: 4,
        ordering: "causal",
        link: (from, to, now) =>
          from === leader && (to === a || to === b) && now >= cutAt
            ? { ...PERFECT_LINK, drop: 1 }
            : PERFECT_LINK,
      });
      const crashAt = cutAt + 5;
      sim.at(crashAt, () => sim.crash(leader));
      for (const i of others)
        for (let k = 0; k < 50; k++)
          sim.at(crashAt + 1 + k * 10 + i, () => sim.send(i, `m${i}-${k}`));
      sim.run(crashAt + 3_000);
      expect(sim.runUntilQuiet(60_000)).toBe(true);
      const accepted = new Map<string, number>();
      const held = [0, 0, 0, 0];
      for (const h of sim.history) {
        if (h.kind === "accept" && h.t > crashAt) accepted.set(h.text, h.t);
        const at = h.kind === "send" ? accepted.get(h.text) : undefined;
        if (h.kind === "send" && at !== undefined)
          held[h.node] = Math.max(held[h.node] as number, h.t - at);
      }
      // The member the start reached sends at once; the two it missed follow within a few ms
      // (the first message of the reached one), not after the 0.8 s dead verdict.
      expect(held[reached]).toBeLessThan(1);
      expect(held[a]).toBeLessThan(20);
      expect(held[b]).toBeLessThan(20);
    });
  }
});
