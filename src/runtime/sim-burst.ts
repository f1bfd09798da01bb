import type { Sim } from "./sim.js";

/**
 * A burst in a simulator that has settled: `count` messages handed to each of its nodes at
 * once, then virtual time runs in 0.5 ms steps until every node delivered every message
 * (live deliveries, not history). Returns the virtual ms from the burst to the last delivery,
 * or NaN when that takes more than `limitMs`. Used by `scripts/loss-sim.mjs` and the tests.
 */
export function simBurstMs(sim: Sim, count: number, limitMs = 10_000): number {
  const hosts = sim.size;
  const t0 = sim.now;
  const start = sim.history.length;
  for (let i = 0; i < count; i++) for (let n = 0; n < hosts; n++) sim.send(n, `m${n}-${i}`);
  const want = hosts * hosts * count;
  let got = 0;
  let last = t0;
  let scanned = start;
  for (let t = t0 + 0.5; got < want && t < t0 + limitMs; t += 0.5) {
    sim.run(t);
    for (; scanned < sim.history.length; scanned++) {
      const e = sim.history[scanned];
      if (e?.kind === "deliver" && !e.history) {
        got++;
        last = Math.max(last, e.t);
      }
    }
  }
  return got >= want ? last - t0 : Number.NaN;
}
