import { defaultMembership } from "../core/membership/config.js";
import type { Baseline } from "./baseline.js";
import { notRun } from "./coordinator.js";
import { type EdgeOptions, type EdgeResult, measureEdges } from "./edges.js";
import { okCell } from "./report.js";
import { measureSimSpeed, type SimSpeed } from "./sim-speed.js";
import { type Aggregate, aggregate } from "./stats.js";
import type { WorkloadSpec } from "./workloads.js";

export { SUITES, type SuiteName } from "./args.js";

export interface TargetCheck {
  /** The issue's target number ("1".."9"), or "0" for "every run verified". */
  id?: string;
  target: string;
  measured: string;
  met: boolean;
}

/** Runs one workload `runs` times and aggregates (supplied by the command). */
export type Exec = (spec: WorkloadSpec, runs: number) => Promise<Aggregate>;

export interface SuiteOptions {
  base: WorkloadSpec;
  runs: number;
  /** Memory rows (all up, one down): seconds of sending (default 60). */
  memoryDuration: number;
  /** Scale rows: node counts (default 2, 4, 8, 16, 32) and messages per node. */
  scaleNodes?: number[] | undefined;
  scaleCount?: number | undefined;
  /** The raw-UDP baseline of this run (target 2 is relative to it). */
  baseline?: Baseline | undefined;
  /** Edges (real CLI processes); undefined: not measured. */
  edges?: EdgeOptions | undefined;
  /** Simulator speed: scenarios per mode (0: not measured). */
  simRuns?: number | undefined;
  progress?: ((line: string) => void) | undefined;
}

export interface SuiteResult {
  rows: Aggregate[];
  targets: TargetCheck[];
  edges?: EdgeResult[];
  sim?: SimSpeed[];
}

const f1 = (x: number) => (Number.isNaN(x) ? "—" : x.toFixed(1));
const f3 = (x: number) => (Number.isNaN(x) ? "—" : x.toFixed(3));
const k = (x: number) => (Number.isNaN(x) ? "—" : `${(x / 1000).toFixed(1)}k`);

/** Today's figures the issue measures against (BENCHMARKS.md, issue 10). */
export const REFERENCE = {
  /** 4×5000 burst, % of the raw packed flood: causal 5.4%, fifo 6.8%. */
  causalPctRaw: 5.4,
  fifoPctRaw: 6.8,
  /** Fuzz campaign, scenarios per second per mode: 15–50; the target is 10× the top. */
  simRunsPerSec: 50,
};

const ratio = (a: number, b: number) => (b > 0 ? a / b : Number.NaN);
const f2 = (x: number) => (Number.isNaN(x) ? "—" : x.toFixed(2));

/**
 * The targets of issue 10, in one invocation: bursts of 4×200 and 4×5000, paced latency at
 * drop 0 and 0.1, a 4×50000 burst and a paced probe for the group's maximum, then paced runs
 * at 80% of it with all nodes up and with one of the four down; the scale rows (2 to 32
 * nodes, causal and total); the edges (real CLI processes, raw-UDP chat, the Python original);
 * the simulator's speed. Each target is computed from the rows of this run.
 */
export async function runTargets(o: SuiteOptions, exec: Exec): Promise<SuiteResult> {
  const rows: Aggregate[] = [];
  const run = async (s: Partial<WorkloadSpec>, runs = o.runs): Promise<Aggregate> => {
    const a = await exec({ ...o.base, nodes: 4, down: 0, delay: 0, ...s }, runs);
    rows.push(a);
    return a;
  };
  const b200c = await run({ workload: "burst", count: 200, ordering: "causal", drop: 0 });
  const b200f = await run({ workload: "burst", count: 200, ordering: "fifo", drop: 0 });
  const b200cd = await run({ workload: "burst", count: 200, ordering: "causal", drop: 0.1 });
  const b200fd = await run({ workload: "burst", count: 200, ordering: "fifo", drop: 0.1 });
  await run({ workload: "burst", count: 200, ordering: "total", drop: 0 });
  const b5kc = await run({ workload: "burst", count: 5000, ordering: "causal", drop: 0 });
  const b5kf = await run({ workload: "burst", count: 5000, ordering: "fifo", drop: 0 });
  const b5kt = await run({ workload: "burst", count: 5000, ordering: "total", drop: 0 });
  const pacedSeconds = Math.min(10, o.memoryDuration);
  await run({
    workload: "paced",
    rate: 100,
    duration: pacedSeconds,
    ordering: "causal",
    drop: 0,
  });
  const p1 = await run({
    workload: "paced",
    rate: 100,
    duration: pacedSeconds,
    ordering: "causal",
    drop: 0.1,
  });
  // The group's maximum: a burst long enough (several seconds) that start-up and the final
  // drain hardly count. Paced traffic costs more per message (smaller bundles, a timer per
  // millisecond), so the one-down runs' load is 80% of what paced senders get through when
  // they offer that burst rate: a short paced run past saturation measures it.
  const long = await run(
    {
      workload: "burst",
      count: Math.min(50_000, Math.max(1000, Math.round(1000 * o.memoryDuration))),
      ordering: "causal",
      drop: 0,
    },
    1,
  );
  const burstMax = long.median.throughputPerNode;
  const probe = await run(
    {
      workload: "paced",
      rate: Math.max(100, Math.round(burstMax / 4)),
      duration: Math.min(5, o.memoryDuration),
      ordering: "causal",
      drop: 0,
    },
    1,
  );
  const max = Math.min(burstMax, probe.median.throughputPerNode);
  const rate = Math.max(100, Math.round((0.8 * max) / 4));
  const memUp = await run(
    { workload: "paced", rate, duration: o.memoryDuration, ordering: "causal", drop: 0 },
    1,
  );
  const memDown = await run(
    { workload: "paced", rate, duration: o.memoryDuration, ordering: "causal", drop: 0, down: 1 },
    1,
  );
  const scale = await runScale(o, exec);
  rows.push(...scale.rows);
  let edges: EdgeResult[] | undefined;
  if (o.edges) edges = await measureEdges(o.edges);
  let sim: SimSpeed[] | undefined;
  if ((o.simRuns ?? 0) > 0) {
    o.progress?.(`simulator: ${o.simRuns} scenarios per mode…`);
    sim = await measureSimSpeed(o.simRuns as number, 180_000);
  }

  const t: TargetCheck[] = [];
  const verified = rows.every((a) => a.median.verified && a.median.complete);
  t.push({
    id: "0",
    target: "every row complete and verified (exactly once, fifo, causal / total order)",
    measured: verified ? "all verified" : "see problems",
    met: verified,
  });
  // 1. total at causal speed.
  const r1 = ratio(b5kt.median.throughputPerNode, b5kc.median.throughputPerNode);
  t.push({
    id: "1",
    target: "burst 4×5000 drop 0: total ≥ 0.8 × causal msg/s per node",
    measured: `${f2(r1)}× (total ${k(b5kt.median.throughputPerNode)}/s, causal ${k(b5kc.median.throughputPerNode)}/s)`,
    met: r1 >= 0.8 && b5kt.median.complete,
  });
  // 2. causal and fifo relative to the raw packed flood.
  const flood = o.baseline?.floodPackedMsgsPerSec ?? 0;
  const pc = flood > 0 ? (100 * b5kc.median.throughputPerNode) / flood : Number.NaN;
  const pf = flood > 0 ? (100 * b5kf.median.throughputPerNode) / flood : Number.NaN;
  const needC = 1.5 * REFERENCE.causalPctRaw;
  const needF = 1.5 * REFERENCE.fifoPctRaw;
  t.push({
    id: "2",
    target: `burst 4×5000 drop 0: causal ≥ ${f1(needC)}% and fifo ≥ ${f1(needF)}% of the raw packed flood (1.5 × ${REFERENCE.causalPctRaw}% and ${REFERENCE.fifoPctRaw}%)`,
    measured:
      flood > 0
        ? `causal ${f1(pc)}%, fifo ${f1(pf)}%; CPU ${f1(b5kc.median.cpuUsPerDelivery)} / ${f1(b5kf.median.cpuUsPerDelivery)} µs per delivery`
        : "not measured (no raw-UDP baseline: --no-baseline)",
    met: pc >= needC && pf >= needF,
  });
  // 3. loss repaired without waiting for timeouts.
  const lossRows = rows.filter((a) => a.spec.drop > 0 && a.spec.down === 0);
  const resendRatios = lossRows.map((a) => a.median.resendsPerLost).filter((x) => !Number.isNaN(x));
  const worstResend = resendRatios.length > 0 ? Math.max(...resendRatios) : Number.NaN;
  const rc = ratio(b200cd.median.completionMs, b200c.median.completionMs);
  const rf = ratio(b200fd.median.completionMs, b200f.median.completionMs);
  t.push({
    id: "3",
    target:
      "loss: 4×200 at drop 0.1 within 2× its drop-0 time, paced 100/s drop 0.1 p99 ≤ 5 ms, resends per lost message ≤ 1.5",
    measured: `causal ${f2(rc)}×, fifo ${f2(rf)}×; p99 ${f1(p1.median.latency.p99)} ms; resends per lost ≤ ${f2(worstResend)} (worst drop-0.1 row)`,
    met: rc <= 2 && rf <= 2 && p1.median.latency.p99 <= 5 && worstResend <= 1.5,
  });
  // 4. one down.
  const up = memUp.median.runPeakRssMb;
  const down = memDown.median.runPeakRssMb;
  const rss = ratio(down, up);
  t.push({
    id: "4",
    target: `one down: paced ${rate}/s per sender (80% of ${k(max)}/s per node) for ${o.memoryDuration} s, 0 refused sends, peak RSS within 20% of all up`,
    measured: `${memDown.median.refused} refused (all up: ${memUp.median.refused}); peak RSS ${f1(down)} MB vs ${f1(up)} MB all up (${f2(rss)}×)`,
    met: memDown.median.refused === 0 && rss <= 1.2 && memDown.median.complete,
  });
  // 5. scale.
  t.push(...scale.targets);
  // 6. simulator.
  const needSim = 10 * REFERENCE.simRunsPerSec;
  t.push({
    id: "6",
    target: `simulator: ≥ ${needSim} runs/s per mode (10 × the issue's 15–50), same seeds`,
    measured: sim
      ? sim
          .map(
            (x) =>
              `${x.mode} ${x.error ? x.error : `${f1(x.runsPerSec)}/s${x.ok ? "" : " (FAILED)"}`}`,
          )
          .join(", ")
      : "not measured (--sim-runs 0)",
    met: sim?.every((x) => x.runsPerSec >= needSim) === true,
  });
  // 7. membership under load.
  const clean = rows.filter((a) => a.spec.drop === 0 && a.spec.down === 0);
  const lc = clean.reduce((m, a) => Math.max(m, a.median.leaderChanges), 0);
  const fd = clean.reduce((m, a) => Math.max(m, a.median.falseDead), 0);
  const bad = clean.filter((a) => a.median.leaderChanges > 0 || a.median.falseDead > 0).length;
  const mc = defaultMembership(4);
  const detectBound = mc.deadAfterMs + mc.heartbeatMs;
  const det = memDown.median.detectMs;
  t.push({
    id: "7",
    target: `membership: 0 leader changes and 0 false dead verdicts in every drop-0 row (up to ${Math.max(...clean.map((a) => a.spec.nodes))} nodes); a killed node declared dead within ${detectBound} ms`,
    measured: `${bad} of ${clean.length} rows with trouble (worst: ${lc} leader changes, ${fd} false dead); killed node declared dead after ${Number.isFinite(det) ? `${det.toFixed(0)} ms` : "never"}`,
    met: bad === 0 && det <= detectBound,
  });
  // 8. latency at the edges.
  t.push(edgeTarget(edges));
  // 9. the Python original.
  t.push(pythonTarget(edges));
  const out: SuiteResult = { rows, targets: t };
  if (edges) out.edges = edges;
  if (sim) out.sim = sim;
  return out;
}

/**
 * `--suite edges`: the edges alone (real CLI processes over pipes: the rmchat CLI, the raw-UDP
 * chat, the original with `--python`) and targets 8 and 9 computed from them.
 */
export async function runEdgeSuite(
  o: EdgeOptions,
): Promise<{ edges: EdgeResult[]; targets: TargetCheck[] }> {
  const edges = await measureEdges(o);
  return { edges, targets: [edgeTarget(edges), pythonTarget(edges)] };
}

function edgeTarget(edges: EdgeResult[] | undefined): TargetCheck {
  const target =
    "edges: lone message p50 ≤ 1.5 × raw-UDP chat and ≤ the original; paced drop-0 p99 ≤ the original's; idle CPU ≤ 0.5% of a core per node";
  const rm = edges?.find((e) => e.kind === "rmchat");
  const raw = edges?.find((e) => e.kind === "raw");
  const py = edges?.find((e) => e.kind === "python");
  if (!rm?.lone || !raw?.lone) {
    return { id: "8", target, measured: rm?.error ?? raw?.error ?? "not measured", met: false };
  }
  const xr = ratio(rm.lone.p50, raw.lone.p50);
  const idle = Math.max(...(rm.idleCpuPct ?? [Number.NaN]));
  const parts = [
    `lone p50 ${f3(rm.lone.p50)} ms = ${f2(xr)}× raw (${f3(raw.lone.p50)} ms)`,
    py?.lone ? `original ${f3(py.lone.p50)} ms` : "original not run (--python)",
    rm.paced
      ? `paced p99 ${f3(rm.paced.p99)} ms${py?.paced ? ` vs original ${f3(py.paced.p99)} ms` : ""}`
      : "paced not run",
    `idle CPU ≤ ${f2(idle)}%`,
  ];
  const met =
    xr <= 1.5 &&
    py?.lone !== undefined &&
    rm.lone.p50 <= py.lone.p50 &&
    rm.paced !== undefined &&
    py.paced !== undefined &&
    rm.paced.p99 <= py.paced.p99 &&
    idle <= 0.5;
  return { id: "8", target, measured: parts.join("; "), met };
}

function pythonTarget(edges: EdgeResult[] | undefined): TargetCheck {
  const target =
    "Python original: 4 nodes, 4×200 lines on stdin, causal, drop 0.1: rmchat ≥ 50× faster";
  const rm = edges?.find((e) => e.kind === "rmchat");
  const py = edges?.find((e) => e.kind === "python");
  if (!py) return { id: "9", target, measured: "not measured (needs --python DIR)", met: false };
  if (!rm?.burst || !py.burst) {
    return { id: "9", target, measured: py.error ?? rm?.error ?? "not measured", met: false };
  }
  const x = ratio(py.burst.seconds, rm.burst.seconds);
  const pyT = py.burst.complete
    ? `${f3(py.burst.seconds)} s`
    : `not done after ${f1(py.burst.seconds)} s`;
  return {
    id: "9",
    target,
    measured: `${f1(x)}× (rmchat ${f3(rm.burst.seconds)} s, original ${pyT}); lone message p50 ${f3(rm.lone?.p50 ?? Number.NaN)} vs ${f3(py.lone?.p50 ?? Number.NaN)} ms`,
    met: rm.burst.complete && x >= 50,
  };
}

/**
 * Cost as work grows: bursts from 2 to 32 nodes, causal and total, and target 5: the group's
 * deliveries per second at 16 nodes ≥ 0.8 × at 4 (the largest row above 4 when 16 is not run).
 */
export async function runScale(
  o: SuiteOptions,
  exec: Exec,
): Promise<{ rows: Aggregate[]; targets: TargetCheck[] }> {
  const nodes = o.scaleNodes ?? [2, 4, 8, 16, 32];
  const count = o.scaleCount ?? 1000;
  const rows: Aggregate[] = [];
  /** Per ordering, the smallest group that timed out: larger ones would too (bounded time). */
  const timedOutAt = new Map<string, number>();
  for (const n of [...nodes].sort((a, b) => a - b)) {
    for (const ordering of ["causal", "total"] as const) {
      const spec: WorkloadSpec = {
        ...o.base,
        workload: "burst",
        nodes: n,
        count,
        ordering,
        down: 0,
        delay: 0,
        drop: 0,
      };
      const failedAt = timedOutAt.get(ordering);
      if (failedAt !== undefined) {
        const why = `skipped: the ${failedAt}-node ${ordering} row timed out`;
        rows.push(aggregate([notRun(spec, why, true)]));
        continue;
      }
      const a = await exec(spec, o.runs);
      if (a.median.timedOut) timedOutAt.set(ordering, n);
      rows.push(a);
    }
  }
  return { rows, targets: [scaleTarget(rows)] };
}

/** What the ok cell says of a row, in words. */
const a4 = (a: Aggregate): string => {
  const c = okCell(a.median);
  return c === "FAILED" ? "failed a check" : c === "INCOMPLETE" ? "incomplete" : c;
};

function scaleTarget(rows: Aggregate[]): TargetCheck {
  const above = [...new Set(rows.map((a) => a.spec.nodes))].filter((n) => n > 4);
  const hi = above.includes(16) ? 16 : Math.max(...above);
  const target = `scale: the group's deliveries per second at ${Number.isFinite(hi) ? hi : 16} nodes ≥ 0.8 × at 4 nodes, causal and total`;
  const parts: string[] = [];
  let met = Number.isFinite(hi);
  for (const ordering of ["causal", "total"] as const) {
    const at = (n: number) => rows.find((a) => a.spec.nodes === n && a.spec.ordering === ordering);
    const lo = at(4);
    const h = at(hi);
    if (!lo || !h) {
      parts.push(`${ordering} not measured (needs 4 and ${hi} nodes)`);
      met = false;
      continue;
    }
    const x = ratio(h.median.groupPerSec, lo.median.groupPerSec);
    // A row that did not complete has no rate to compare: say what became of it.
    const notDone = [lo, h].find((a) => !a.median.complete || !a.median.verified);
    const figure = notDone ? `${a4(notDone)} at ${notDone.spec.nodes} nodes` : `${f2(x)}×`;
    parts.push(
      `${ordering} ${figure} (${k(h.median.groupPerSec)}/s vs ${k(lo.median.groupPerSec)}/s)`,
    );
    if (notDone || !(x >= 0.8)) met = false;
  }
  return { id: "5", target, measured: parts.join(", "), met };
}
