import { describe, expect, it } from "vitest";
import { ORDERINGS } from "../../src/core/types.js";
import { fuzz } from "../../src/fuzz/property.js";

/**
 * The fixed CI budget: RUNS seeded scenarios per mode (2 to 7 nodes, drops, duplicates,
 * delay spikes, partitions that heal, late starts, clean crashes, fifo restarts), every
 * property checked after the network has been quiet. A failure message carries the seed,
 * the path, the shrunk schedule and the `npm run fuzz` command that replays it.
 */
const RUNS = 400;
const SEED = 20_240_603;

describe("fuzz: the real protocol in the simulator", () => {
  for (const mode of ORDERINGS) {
    it(`${mode}: integrity, validity, agreement, fifo${mode === "fifo" ? "" : `, ${mode}`}, boundedness over ${RUNS} runs`, () => {
      const out = fuzz({ mode, runs: RUNS, seed: SEED });
      expect(out.report, out.report ?? "").toBeNull();
      expect(out.executed).toBe(RUNS);
    });
  }
});
