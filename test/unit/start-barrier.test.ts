import { describe, expect, it } from "vitest";
import type { View } from "../../src/core/membership/view.js";
import { StartBarrier } from "../../src/core/views/start-barrier.js";
import { PERFECT_LINK, Sim } from "../../src/runtime/sim.js";

const view = (term: number, version: number, members: number[], incs?: number[]): View => ({
  term,
  version,
  members,
  incs: incs ?? members.map((k) => 100 + k),
});

describe("StartBarrier", () => {
  it("opens once every other member reported this very view", () => {
    const b = new StartBarrier(4);
    const v = view(2, 1, [0, 1, 3]);
    expect(b.allInstalled(v, 0)).toBe(false);
    b.installed(1, 101, v);
    expect(b.allInstalled(v, 0)).toBe(false);
    b.installed(3, 103, v);
    expect(b.allInstalled(v, 0)).toBe(true);
    // Host 2 is no member: its silence does not matter.
  });

  it("counts only the newest report of a peer, for this view and this life", () => {
    const b = new StartBarrier(3);
    const v = view(1, 4, [0, 1, 2]);
    b.installed(1, 101, view(1, 3, [0, 1, 2])); // an older view
    b.installed(2, 999, v); // another life of host 2
    expect(b.allInstalled(v, 0)).toBe(false);
    b.installed(1, 101, v);
    expect(b.allInstalled(v, 0)).toBe(false);
    b.installed(2, 102, v);
    expect(b.allInstalled(v, 0)).toBe(true);
    b.installed(2, 102, view(1, 5, [0, 1, 2])); // host 2 moved on to the next view
    expect(b.allInstalled(v, 0)).toBe(false);
  });

  it("a view of one member is open at once; clear forgets every report", () => {
    const b = new StartBarrier(2);
    expect(b.allInstalled(view(1, 1, [0]), 0)).toBe(true);
    const v = view(1, 2, [0, 1]);
    b.installed(1, 101, v);
    expect(b.allInstalled(v, 0)).toBe(true);
    b.clear();
    expect(b.allInstalled(v, 0)).toBe(false);
  });
});

/**
 * fifo/causal: the leader crashes after every member installed the group's first view and
 * before anything more of it reached anyone (its datagrams are lost from the moment the last
 * member installed; the crash comes 5 ms later). The members told each other they installed
 * it, so they send at once. With the leader's `start` as the only barrier they waited for its
 * dead verdict and the next view, about 0.8 s (README, "The view-change flush").
 */
describe("the members start their view without the leader (simulated)", () => {
  for (const ordering of ["causal", "fifo"] as const)
    for (const seed of [1, 2, 3]) {
      it(`${ordering}, seed ${seed}: nobody waits for the crashed leader`, () => {
        const probe = new Sim({ seed, hosts: 4, ordering });
        probe.run(3_000);
        const leader = probe.node(0)?.status().leader as number;
        const others = [0, 1, 2, 3].filter((i) => i !== leader);
        const installedAt = (s: Sim, i: number) =>
          s.history.find((h) => h.kind === "view" && h.node === i && h.members.length === 4)
            ?.t as number;
        const cutAt = Math.max(...others.map((i) => installedAt(probe, i)));
        const sim = new Sim({
          seed,
          hosts: 4,
          ordering,
          link: (from, _to, now) =>
            from === leader && now >= cutAt ? { ...PERFECT_LINK, drop: 1 } : PERFECT_LINK,
        });
        const crashAt = cutAt + 5;
        sim.at(crashAt, () => sim.crash(leader));
        for (const i of others)
          for (let k = 0; k < 50; k++)
            sim.at(crashAt + 1 + k * 10 + i, () => sim.send(i, `m${i}-${k}`));
        sim.run(crashAt + 3_000);
        expect(sim.runUntilQuiet(60_000)).toBe(true);
        // Every member installed the first view before the cut, as in the probe.
        for (const i of others) expect(installedAt(sim, i)).toBeLessThanOrEqual(cutAt);
        const accepted = new Map<string, number>();
        const held = [0, 0, 0, 0];
        for (const h of sim.history) {
          if (h.kind === "accept" && h.t > crashAt) accepted.set(h.text, h.t);
          const at = h.kind === "send" ? accepted.get(h.text) : undefined;
          if (h.kind === "send" && at !== undefined)
            held[h.node] = Math.max(held[h.node] as number, h.t - at);
        }
        for (const i of others) expect(held[i]).toBeLessThan(1);
      });
    }
});
