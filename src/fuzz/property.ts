import fc from "fast-check";
import type { UnsafeKnobs } from "../core/node-types.js";
import type { OrderFactory } from "../core/order/index.js";
import type { Ordering } from "../core/types.js";
import { checkTrace } from "./checkers.js";
import { type RunOptions, runPlan } from "./runner.js";
import {
  type CrashStyle,
  describePlan,
  normalize,
  type Plan,
  type Scenario,
  scenarioArb,
} from "./scenario.js";
import type { Trace } from "./trace.js";

export interface FuzzConfig {
  mode: Ordering;
  runs: number;
  seed: number;
  /** Replay: the counterexample path printed by a failure (with the same seed). */
  path?: string;
  /** Begin at this run (the ones before are generated, not run): one chunk of a campaign. */
  start?: number;
  /** Default abrupt. */
  crash?: CrashStyle;
  /** Run against another order layer (tests of the test suite). */
  orderFactory?: OrderFactory;
  /** Deliberately broken protocol variants (negative controls). */
  unsafe?: UnsafeKnobs;
  /** Scenarios to draw from instead of the full model (targeted negative controls). */
  scenarios?: fc.Arbitrary<Scenario>;
  /** Shrink a counterexample (default true); false stops at the first failing run. */
  shrink?: boolean;
  /**
   * Check only these properties (default: every one that applies to the mode, and
   * "quiescence": the run settles once the faults stop).
   */
  checkers?: readonly string[];
  /** Called after every run; `shrinking` once a counterexample was found. */
  onProgress?: (runs: number, shrinking: boolean) => void;
}

export interface FuzzOutcome {
  mode: Ordering;
  ok: boolean;
  /** Scenarios executed, shrinking included. */
  executed: number;
  /** Failure messages of the shrunk counterexample (empty when ok). */
  failures: string[];
  /** How many of the executed plans had at least one fault of each kind. */
  faults: FaultCounts;
  /** Index of the first failing run, counted from run 0 of the seed (undefined when ok). */
  failedAt?: number;
  /** Seed, path, readable schedule, failures and the replay command (null when ok). */
  report: string | null;
  /** The shrunk counterexample's plan (replay it with a tracer for a diagram). */
  plan?: Plan;
}

/** Runs (plans executed) and how many had at least one abrupt crash, restart, late start, partition, pause. */
export interface FaultCounts {
  runs: number;
  abruptCrashes: number;
  restarts: number;
  lateStarts: number;
  partitions: number;
  pauses: number;
}

export const noFaults = (): FaultCounts => ({
  runs: 0,
  abruptCrashes: 0,
  restarts: 0,
  lateStarts: 0,
  partitions: 0,
  pauses: 0,
});

/** Count one plan into `c`. */
export function countFaults(c: FaultCounts, p: Plan): void {
  c.runs++;
  if (p.crash === "abrupt" && p.crashes.length > 0) c.abruptCrashes++;
  if (p.crashes.some((x) => x.restartAt !== null)) c.restarts++;
  if (p.lateStarts.length > 0) c.lateStarts++;
  if (p.partitions.length > 0) c.partitions++;
  if (p.pauses.length > 0) c.pauses++;
}

/** The campaign's fault line, in the exact form tools outside the project read. */
export function faultLine(mode: Ordering, c: FaultCounts): string {
  return `faults ${mode}: runs ${c.runs}, abrupt crashes ${c.abruptCrashes}, restarts ${c.restarts}, late starts ${c.lateStarts}, partitions ${c.partitions}`;
}

/** Runs with a process pause (a line of its own: the fault line keeps its exact form). */
export function pauseLine(mode: Ordering, c: FaultCounts): string {
  return `pauses ${mode}: runs ${c.runs}, paused ${c.pauses}`;
}

/** Run one plan and check it: the trace and the failure messages (empty when all hold). */
export function evaluate(
  plan: Plan,
  opts: RunOptions = {},
  only?: readonly string[],
): { trace: Trace; failures: string[] } {
  const r = runPlan(plan, opts);
  const failures = checkTrace(plan.mode, r.trace, only);
  const quiescence = only === undefined || only.includes("quiescence");
  if (failures.length === 0 && quiescence && r.settledAt === undefined) {
    failures.push("quiescence: the run never settled, although every checker passed");
  }
  return { trace: r.trace, failures };
}

export function replayCommand(
  mode: Ordering,
  seed: number,
  path: string,
  crash: CrashStyle,
): string {
  const extra = crash === "abrupt" ? "" : ` --crash ${crash}`;
  return `npm run fuzz -- --mode ${mode} --seed ${seed} --path ${path}${extra}`;
}

function summary(tr: Trace): string {
  const per = Array.from({ length: tr.nodes }, () => ({ sent: 0, refused: 0, delivered: 0 }));
  const life: string[] = [];
  for (const e of tr.events) {
    const c = per[e.node];
    if (e.kind === "send" && c) c.sent++;
    if (e.kind === "refused" && c) c.refused++;
    if (e.kind === "deliver" && c) c.delivered++;
    if ((e.kind === "start" && e.t > 0) || e.kind === "crash" || e.kind === "rejoin") {
      life.push(`t=${e.t.toFixed(1)} ${e.kind} ${e.node}`);
    }
  }
  const counts = per.map(
    (c, i) => `node ${i}: sent ${c.sent}, refused ${c.refused}, delivered ${c.delivered}`,
  );
  return [...counts, ...(life.length > 0 ? [`lifecycle: ${life.join(", ")}`] : [])].join("\n");
}

/** Property-check one mode with fast-check; on failure, build the full report. */
export function fuzz(cfg: FuzzConfig): FuzzOutcome {
  const crash = cfg.crash ?? "abrupt";
  const opts: RunOptions = {};
  if (cfg.orderFactory) opts.orderFactory = cfg.orderFactory;
  if (cfg.unsafe) opts.unsafe = cfg.unsafe;
  let executed = 0;
  let shrinking = false;
  const faults = noFaults();
  const prop = fc.property(cfg.scenarios ?? scenarioArb(cfg.mode), (s) => {
    executed++;
    cfg.onProgress?.(executed, shrinking);
    const plan = normalize(cfg.mode, s, { crash });
    countFaults(faults, plan);
    const { failures } = evaluate(plan, opts, cfg.checkers);
    if (failures.length > 0) {
      shrinking = true;
      throw new Error(failures.join("\n"));
    }
  });
  const params: fc.Parameters<[Scenario]> = { seed: cfg.seed, numRuns: cfg.runs };
  const start = cfg.start ?? 0;
  if (cfg.path !== undefined) params.path = cfg.path;
  else if (start > 0) params.path = String(start);
  if (cfg.path !== undefined || cfg.shrink === false) params.endOnFailure = true;
  const d = fc.check(prop, params);
  if (!d.failed) return { mode: cfg.mode, ok: true, executed, failures: [], faults, report: null };
  const [scenario] = d.counterexample ?? [];
  const failedAt = Number((d.counterexamplePath ?? "").split(":")[0]);
  const head = `FUZZ FAILURE: mode ${cfg.mode}, seed ${d.seed}, path ${d.counterexamplePath}, found after ${start + d.numRuns} run(s), shrunk ${d.numShrinks} time(s)`;
  const shrunk = cfg.shrink === false ? "not shrunk" : "shrunk";
  if (!scenario) {
    const why = `no counterexample: ${String(d.errorInstance ?? "interrupted")}`;
    return {
      mode: cfg.mode,
      ok: false,
      executed,
      failures: [why],
      faults,
      failedAt,
      report: `${head}\n${why}`,
    };
  }
  const plan = normalize(cfg.mode, scenario, { crash });
  let failures: string[];
  let trace: Trace | undefined;
  try {
    ({ trace, failures } = evaluate(plan, opts, cfg.checkers));
  } catch (e) {
    failures = [`exception: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`];
  }
  const report = [
    head,
    "failed:",
    ...failures.map((f) => `  ${f}`),
    `schedule (${shrunk}):`,
    ...describePlan(plan)
      .split("\n")
      .map((l) => `  ${l}`),
    ...(trace
      ? [
          "outcome:",
          ...summary(trace)
            .split("\n")
            .map((l) => `  ${l}`),
        ]
      : []),
    `scenario (for a regression test): ${JSON.stringify(scenario)}`,
    `replay: ${replayCommand(cfg.mode, d.seed, d.counterexamplePath ?? "", crash)}`,
  ].join("\n");
  return { mode: cfg.mode, ok: false, executed, failures, faults, failedAt, report, plan };
}
