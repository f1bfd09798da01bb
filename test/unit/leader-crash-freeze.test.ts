import { describe, expect, it } from "vitest";
import { Sim } from "../../src/runtime/sim.js";

/**
 * A crashed leader's successor is often elected before the old leader is declared dead. It
 * must not freeze the group's sends with a view proposal naming the old leader (which never
 * answers) until the dead verdict: the members keep sending and delivering meanwhile.
 */
describe("a new leader does not freeze the group for its crashed predecessor (simulated)", () => {
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    it(`seed ${seed}: messages sent after the crash arrive without waiting for the dead verdict`, () => {
      const sim = new Sim({ seed, hosts: 4, ordering: "causal" });
      sim.run(2_000);
      const leader = sim.node(0)?.status().leader;
      expect(leader).toBeDefined();
      const live = [0, 1, 2, 3].filter((i) => i !== leader);
      for (const i of live)
        for (let k = 0; k < 150; k++) sim.at(2_000 + k * 10 + i, () => sim.send(i, `m${i}-${k}`));
      const crashAt = 2_300;
      sim.at(crashAt, () => sim.crash(leader as number));
      sim.run(4_000);
      expect(sim.runUntilQuiet(60_000)).toBe(true);
      const acceptedAt = new Map<string, number>();
      for (const h of sim.history) if (h.kind === "accept") acceptedAt.set(h.text, h.t);
      let worst = 0;
      let counted = 0;
      for (const h of sim.history) {
        if (h.kind !== "deliver" || h.history || !live.includes(h.node) || h.from === h.node)
          continue;
        const at = acceptedAt.get(h.text);
        if (at === undefined || at < crashAt) continue;
        worst = Math.max(worst, h.t - at);
        counted++;
      }
      expect(counted).toBe(live.length * (live.length - 1) * 120);
      // The dead verdict comes 0.8 s after the leader's last frame; a freeze until then would
      // hold messages sent after the crash for hundreds of ms.
      expect(worst).toBeLessThan(100);
    });
  }
});
