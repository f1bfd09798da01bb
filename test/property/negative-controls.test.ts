import { describe, expect, it } from "vitest";
import { fuzz } from "../../src/fuzz/property.js";
import { CONTROLS } from "./controls.js";

/**
 * Negative controls: each deliberately broken protocol variant (`controls.ts`) must be caught
 * by the matching checker within a fixed budget, checking only that property. The same
 * scenarios with the real protocol must pass, so a control cannot pass by accident.
 */
const SEED = 15_015;
const BUDGET = 300;
const CLEAN_RUNS = 60;

describe("negative controls: the checkers catch deliberately broken protocol variants", () => {
  for (const c of CONTROLS) {
    it(`${c.mode}, ${c.name}: the ${c.checker} checker finds a counterexample`, () => {
      const out = fuzz({
        mode: c.mode,
        runs: BUDGET,
        seed: SEED,
        unsafe: c.unsafe,
        checkers: [c.checker],
        scenarios: c.scenarios,
        shrink: false,
      });
      expect(out.ok, `no counterexample in ${BUDGET} runs`).toBe(false);
      expect(
        out.failures.some((f) => f.startsWith(`${c.checker}:`)),
        out.report ?? "",
      ).toBe(true);
    });
    it(`${c.mode}, the same scenarios without ${Object.keys(c.unsafe).join()}: ${c.checker} holds`, () => {
      const out = fuzz({
        mode: c.mode,
        runs: CLEAN_RUNS,
        seed: SEED,
        checkers: [c.checker],
        scenarios: c.scenarios,
      });
      expect(out.report, out.report ?? "").toBeNull();
    });
  }
});
