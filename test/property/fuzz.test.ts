import { describe, expect, it } from "vitest";
import { ORDERINGS } from "../../src/core/types.js";
import { faultLine, fuzz, pauseLine } from "../../src/fuzz/property.js";

/**
 * The fixed CI budget: RUNS seeded scenarios per mode of the full fault model (2 to 7 nodes,
 * drops, duplicates, delay spikes, reordering, partitions that heal, late starts, abrupt
 * crashes and restarts at any instant, process pauses, combined), every property checked after the network
 * has been quiet. A failure message carries the seed, the path, the shrunk schedule and the
 * `npm run fuzz` command that replays it.
 */
const RUNS = 300;
const SEED = 20_240_603;

describe("fuzz: the real protocol in the simulator", () => {
  for (const mode of ORDERINGS) {
    it(`${mode}: integrity, validity, agreement, fifo${mode === "fifo" ? "" : `, ${mode}`}, boundedness over ${RUNS} runs`, () => {
      const out = fuzz({ mode, runs: RUNS, seed: SEED });
      expect(out.report, out.report ?? "").toBeNull();
      expect(out.executed).toBe(RUNS);
      // the model is the full one: every kind of fault occurs in many of the runs
      const f = out.faults;
      for (const k of [f.abruptCrashes, f.restarts, f.lateStarts, f.partitions]) {
        expect(k, faultLine(mode, f)).toBeGreaterThan(RUNS / 10);
      }
      expect(f.pauses, pauseLine(mode, f)).toBeGreaterThan(RUNS / 10);
    });
  }
});
