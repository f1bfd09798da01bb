import { describe, expect, it } from "vitest";
import { PERFECT_LINK, Sim } from "../../src/runtime/sim.js";

/**
 * fifo/causal: a member sends in a new view only once every other member told it that it
 * installed the view (views/start-barrier.ts). When a member crashes after its `installed`
 * reached some members only, those send at once, and a message one of them sent in the view
 * tells the others that everyone installed it: they start too, instead of waiting for the
 * crashed member's dead verdict and the next view (0.8 s). Here one member's datagrams to
 * another are lost from the moment it installed the group's first view, and it crashes 5 ms
 * later.
 */
describe("a member infers the start of its view from a message sent in it (simulated)", () => {
  for (const seed of [1, 2, 3, 4]) {
    it(`seed ${seed}: the member a crashed peer's installed missed sends within a few ms`, () => {
      const probe = new Sim({ seed, hosts: 4, ordering: "causal" });
      probe.run(3_000);
      const leader = probe.node(0)?.status().leader as number;
      const others = [0, 1, 2, 3].filter((i) => i !== leader);
      const [crashed, missed, reached] = others as [number, number, number];
      const installedAt = (s: Sim, i: number) =>
        s.history.find((h) => h.kind === "view" && h.node === i && h.members.length === 4)
          ?.t as number;
      const cutAt = installedAt(probe, crashed);
      const sim = new Sim({
        seed,
        hosts: 4,
        ordering: "causal",
        link: (from, to, now) =>
          from === crashed && to === missed && now >= cutAt
            ? { ...PERFECT_LINK, drop: 1 }
            : PERFECT_LINK,
      });
      const crashAt = cutAt + 5;
      sim.at(crashAt, () => sim.crash(crashed));
      const senders = [leader, missed, reached];
      for (const i of senders)
        for (let k = 0; k < 50; k++)
          sim.at(crashAt + 1 + k * 10 + i, () => sim.send(i, `m${i}-${k}`));
      sim.run(crashAt + 3_000);
      expect(sim.runUntilQuiet(60_000)).toBe(true);
      expect(installedAt(sim, crashed)).toBe(cutAt);
      const accepted = new Map<string, number>();
      const held = [0, 0, 0, 0];
      for (const h of sim.history) {
        if (h.kind === "accept" && h.t > crashAt) accepted.set(h.text, h.t);
        const at = h.kind === "send" ? accepted.get(h.text) : undefined;
        if (h.kind === "send" && at !== undefined)
          held[h.node] = Math.max(held[h.node] as number, h.t - at);
      }
      // The members the crashed one's `installed` reached send at once; the one it missed
      // follows within a few ms (their first message), not after the 0.8 s dead verdict.
      expect(held[leader]).toBeLessThan(1);
      expect(held[reached]).toBeLessThan(1);
      expect(held[missed]).toBeLessThan(20);
    });
  }
});
