import type { TraceRecord } from "../trace/events.js";
import { buildDiagram } from "../trace/model.js";
import { TraceRecorder } from "../trace/recorder.js";
import { renderDiagram } from "../trace/render.js";
import { checkTrace } from "./checkers.js";
import { type RunOptions, runPlan } from "./runner.js";
import type { Plan } from "./scenario.js";

/**
 * Replay a fuzz plan in the simulator with a recorder attached and draw it. The replay is
 * deterministic (the recorder draws no random numbers), so it is the run that failed; its
 * checker failures are highlighted.
 */
export function diagramOfPlan(
  plan: Plan,
  opts: Omit<RunOptions, "tracer"> = {},
  title = `fuzz counterexample: mode ${plan.mode}, ${plan.nodes} nodes, seed ${plan.seed}`,
  only?: readonly string[],
): { html: string; records: TraceRecord[]; failures: string[] } {
  const records: TraceRecord[] = [];
  const tracer = new TraceRecorder((r) => records.push(r), plan.nodes);
  const r = runPlan(plan, { ...opts, tracer });
  const failures = checkTrace(plan.mode, r.trace, only);
  const html = renderDiagram(buildDiagram(records, { title, violations: failures }));
  return { html, records, failures };
}

/** Where `--diagram FILE` puts a mode's diagram: FILE itself, or with several modes FILE-mode.ext. */
export function diagramFile(base: string, mode: string, severalModes: boolean): string {
  return severalModes ? base.replace(/(\.[^./]*)?$/, `-${mode}$1`) : base;
}
