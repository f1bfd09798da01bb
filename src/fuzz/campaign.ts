import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { Ordering } from "../core/types.js";
import { type FaultCounts, type FuzzOutcome, fuzz, noFaults } from "./property.js";
import { simulated } from "./runner.js";
import type { CrashStyle } from "./scenario.js";

/**
 * A fuzz campaign: `runs` scenarios per mode from one fast-check seed, in this process or
 * split into chunks of consecutive runs over worker threads. Run i of a seed is the same
 * scenario wherever it runs, and a mode's verdict is the one of its first failing run
 * (shrunk the same way), so the outcome does not depend on the number of workers; only the
 * count of scenarios executed may (chunks after the first failure may already have run).
 */
export interface CampaignConfig {
  modes: readonly Ordering[];
  runs: number;
  seed: number;
  crash: CrashStyle;
  /** Worker threads; 1 runs everything in this process. */
  jobs: number;
  /** Runs per chunk handed to a worker (default: about 8 chunks per worker and mode). */
  chunk?: number;
  /** Scenarios executed so far in a mode (shrinking included), and whether it is shrinking. */
  onProgress?: (mode: Ordering, executed: number, shrinking: boolean) => void;
}

export interface ModeResult extends FuzzOutcome {
  /** Wall time from the mode's first run to its last, ms. */
  wallMs: number;
  /** Virtual time simulated for the mode, ms (shrinking included). */
  virtualMs: number;
  /** Simulator events handled for the mode. */
  events: number;
}

export interface CampaignResult {
  modes: ModeResult[];
  wallMs: number;
  jobs: number;
}

/** Workers to use by default: one per core (at least 1). */
export function defaultJobs(): number {
  return Math.max(1, availableParallelism());
}

/** One chunk: runs [start, start + count) of a mode. */
export interface ChunkTask {
  mode: Ordering;
  start: number;
  count: number;
  seed: number;
  crash: CrashStyle;
}

export type FromWorker =
  | { type: "progress"; executed: number; shrinking: boolean }
  | {
      type: "done";
      outcome: FuzzOutcome;
      virtualMs: number;
      events: number;
    };

/** Run one chunk here (the worker's job; also the single-process path). */
export function runChunk(
  t: ChunkTask,
  onProgress?: (executed: number, shrinking: boolean) => void,
): Extract<FromWorker, { type: "done" }> {
  const before = { ...simulated };
  const outcome = fuzz({
    mode: t.mode,
    runs: t.count,
    seed: t.seed,
    start: t.start,
    crash: t.crash,
    onProgress,
  });
  return {
    type: "done",
    outcome,
    virtualMs: simulated.virtualMs - before.virtualMs,
    events: simulated.events - before.events,
  };
}

/** dist/fuzz/fuzz-worker.js next to this file (from src/, under vitest: the built one). */
function workerScript(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const js = join(here, "fuzz-worker.js");
  if (existsSync(js)) return js;
  return join(here, "..", "..", "dist", "fuzz", "fuzz-worker.js");
}

interface ModeState {
  mode: Ordering;
  /** Lowest failing run index seen, and its outcome. */
  failure: FuzzOutcome | undefined;
  executed: number;
  /** Executed per chunk start (progress of running chunks). */
  live: Map<number, number>;
  shrinking: boolean;
  firstAt: number | undefined;
  lastAt: number;
  virtualMs: number;
  events: number;
  faults: FaultCounts;
}

function result(st: ModeState): ModeResult {
  const f = st.failure;
  return {
    mode: st.mode,
    ok: f === undefined,
    executed: st.executed,
    failures: f ? f.failures : [],
    ...(f?.failedAt !== undefined ? { failedAt: f.failedAt } : {}),
    report: f ? f.report : null,
    ...(f?.plan ? { plan: f.plan } : {}),
    faults: st.faults,
    wallMs: st.firstAt === undefined ? 0 : st.lastAt - st.firstAt,
    virtualMs: st.virtualMs,
    events: st.events,
  };
}

/** Run the campaign; resolves when every mode has its verdict. */
export async function campaign(cfg: CampaignConfig): Promise<CampaignResult> {
  const t0 = performance.now();
  const states = cfg.modes.map(
    (mode): ModeState => ({
      mode,
      failure: undefined,
      executed: 0,
      live: new Map(),
      shrinking: false,
      firstAt: undefined,
      lastAt: 0,
      virtualMs: 0,
      events: 0,
      faults: noFaults(),
    }),
  );
  const jobs = Math.max(1, Math.floor(cfg.jobs));
  const chunk = Math.max(
    1,
    cfg.chunk ?? Math.min(250, Math.max(5, Math.ceil(cfg.runs / (jobs * 8)))),
  );
  const tasks: Array<{ st: ModeState; task: ChunkTask }> = [];
  for (const st of states)
    for (let start = 0; start < cfg.runs; start += chunk)
      tasks.push({
        st,
        task: {
          mode: st.mode,
          start,
          count: Math.min(chunk, cfg.runs - start),
          seed: cfg.seed,
          crash: cfg.crash,
        },
      });

  const finish = (st: ModeState, start: number, m: Extract<FromWorker, { type: "done" }>) => {
    st.live.delete(start);
    st.executed += m.outcome.executed;
    st.virtualMs += m.virtualMs;
    st.events += m.events;
    const fc = m.outcome.faults;
    st.faults.runs += fc.runs;
    st.faults.abruptCrashes += fc.abruptCrashes;
    st.faults.restarts += fc.restarts;
    st.faults.lateStarts += fc.lateStarts;
    st.faults.partitions += fc.partitions;
    st.faults.pauses += fc.pauses;
    st.lastAt = performance.now();
    const f = m.outcome;
    const first = st.failure?.failedAt ?? Infinity;
    if (!f.ok && (st.failure === undefined || (f.failedAt ?? Infinity) < first)) st.failure = f;
  };
  const progress = (st: ModeState, start: number, executed: number, shrinking: boolean) => {
    st.firstAt ??= performance.now();
    st.live.set(start, executed);
    st.shrinking ||= shrinking;
    let n = st.executed;
    for (const k of st.live.values()) n += k;
    cfg.onProgress?.(st.mode, n, st.shrinking);
  };
  /** A chunk that starts after a known failure cannot change the verdict: skip it. */
  const needed = (st: ModeState, t: ChunkTask): boolean =>
    st.failure === undefined || t.start < (st.failure.failedAt ?? Infinity);

  if (jobs === 1) {
    for (const { st, task } of tasks) {
      if (!needed(st, task)) continue;
      st.firstAt ??= performance.now();
      finish(
        st,
        task.start,
        runChunk(task, (n, s) => progress(st, task.start, n, s)),
      );
    }
  } else {
    const script = workerScript();
    if (!existsSync(script))
      throw new Error(`fuzz worker not built: ${script} is missing (run \`npm run build\`)`);
    let next = 0;
    const take = (): { st: ModeState; task: ChunkTask } | undefined => {
      while (next < tasks.length) {
        const t = tasks[next++] as { st: ModeState; task: ChunkTask };
        if (needed(t.st, t.task)) return t;
      }
      return undefined;
    };
    const started: Worker[] = [];
    const worker = (): Promise<void> =>
      new Promise((resolve, reject) => {
        const w = new Worker(script);
        started.push(w);
        let cur: { st: ModeState; task: ChunkTask } | undefined;
        const feed = (): void => {
          cur = take();
          if (cur) {
            cur.st.firstAt ??= performance.now();
            w.postMessage(cur.task);
          } else void w.terminate().then(() => resolve());
        };
        w.on("message", (m: FromWorker) => {
          if (!cur) return;
          if (m.type === "progress") progress(cur.st, cur.task.start, m.executed, m.shrinking);
          else {
            finish(cur.st, cur.task.start, m);
            feed();
          }
        });
        w.on("error", (e) => reject(e));
        w.on("exit", (code) => {
          if (cur && code !== 0) reject(new Error(`fuzz worker exited with code ${code}`));
        });
        feed();
      });
    try {
      await Promise.all(Array.from({ length: Math.min(jobs, tasks.length) }, worker));
    } catch (e) {
      // One worker failed: stop the others, or they would keep the process alive.
      await Promise.all(started.map((w) => w.terminate()));
      throw e;
    }
  }
  return { modes: states.map(result), wallMs: performance.now() - t0, jobs };
}
