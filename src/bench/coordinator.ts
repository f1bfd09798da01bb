import { createSocket, type Socket } from "node:dgram";
import { readFileSync } from "node:fs";
import { mono } from "./clock.js";
import type { NodeResult, WorkerMsg } from "./protocol.js";
import type { WorkerHandle, WorkerPool } from "./workers.js";
import { describe, plannedCount, type WorkloadSpec } from "./workloads.js";

export interface RunOptions {
  /** Worker processes, kept across the runs of one workload. */
  pool: WorkerPool;
  /** Per run, from the start instant to the last delivery. */
  timeoutMs: number;
  /** A status line to show (progress); the caller decides where and how often. */
  progress?: ((line: string) => void) | undefined;
  /** Temporary directory for the nodes' persisted term and vote. */
  stateDir?: string;
  /** Label for progress lines, e.g. "run 2/5". */
  label?: string;
}

export interface RunResult {
  spec: WorkloadSpec;
  /** Every expected message delivered everywhere before the timeout. */
  complete: boolean;
  /** Not complete because the deadline passed (no node died), or never started. */
  timedOut: boolean;
  /** Not run at all (a smaller group of the same kind timed out). */
  skipped?: boolean;
  /** No violation of exactly-once, FIFO, causal or total order, and total order agreed. */
  verified: boolean;
  problems: string[];
  /** Start instant, monotonic ms. */
  goAt: number;
  /** When the down nodes were killed, monotonic ms (0: none). */
  killAt: number;
  /** Start instant to result collection, ms. */
  wallMs: number;
  /**
   * Datagrams the kernel dropped because a UDP socket's receive buffer was full, system-wide,
   * from the start instant to result collection (`RcvbufErrors` of /proc/net/snmp; NaN where
   * it cannot be read). Other processes' sockets count too: read it on a quiet machine.
   */
  kernelDrops: number;
  /** Messages each sender got accepted (what must be delivered). */
  expected: number[];
  /** Live nodes' results (down nodes excluded). */
  nodes: NodeResult[];
}

/** UDP receive-buffer overflows so far, system-wide (NaN off Linux or when unreadable). */
export function rcvbufErrors(): number {
  try {
    const lines = readFileSync("/proc/net/snmp", "utf8").split("\n");
    const rows = lines.filter((l) => l.startsWith("Udp: "));
    const head = (rows[0] ?? "").trim().split(/\s+/);
    const vals = (rows[1] ?? "").trim().split(/\s+/);
    const i = head.indexOf("RcvbufErrors");
    const v = i > 0 ? Number(vals[i]) : Number.NaN;
    return Number.isFinite(v) ? v : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Setup (processes find each other, elect a leader): longer for many processes on few cores. */
const setupMs = (n: number): number => 20_000 + 2000 * n;
const START_DELAY_MS = 100;
/** Down nodes: time for the survivors to settle after sending, when completion cannot be known. */
const COLLECT_MS = 10_000;

/** Free UDP ports on 127.0.0.1: bound to port 0 together, then released. */
export async function freePorts(n: number): Promise<number[]> {
  const socks: Socket[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const s = createSocket("udp4");
      socks.push(s);
      await new Promise<void>((resolve, reject) => {
        s.once("error", reject);
        s.bind(0, "127.0.0.1", () => resolve());
      });
    }
    return socks.map((s) => s.address().port);
  } finally {
    for (const s of socks) s.close();
  }
}

/**
 * A run that did not happen: its nodes never got ready (a loaded machine, a worker that died
 * during setup), or it was skipped. A row that says so ("timed out", "skipped") instead of
 * ending the benchmark, so that one 32-node row cannot cost the whole suite.
 */
export function notRun(spec: WorkloadSpec, problem: string, skipped = false): RunResult {
  return {
    spec,
    complete: false,
    timedOut: true,
    ...(skipped ? { skipped } : {}),
    verified: true,
    problems: [problem],
    goAt: 0,
    killAt: 0,
    wallMs: 0,
    kernelDrops: Number.NaN,
    expected: [],
    nodes: [],
  };
}

class RetryableSetupError extends Error {}

/** One run of a workload: start the nodes, go, wait, collect, verify. Retries on a port race. */
export async function runWorkload(spec: WorkloadSpec, opts: RunOptions): Promise<RunResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await runOnce(spec, opts);
    } catch (e) {
      if (e instanceof RetryableSetupError && attempt < 3) continue;
      throw e;
    }
  }
}

let runCounter = 0;

async function runOnce(spec: WorkloadSpec, opts: RunOptions): Promise<RunResult> {
  const n = spec.nodes;
  const run = ++runCounter;
  const ports = await freePorts(n);
  const workers: WorkerHandle[] = opts.pool.get(n);
  const live = new Set<number>();
  const exits: Array<string | undefined> = new Array(n).fill(undefined);
  const problems: string[] = [];
  // What every worker has said so far.
  const ready = new Set<number>();
  const sent = new Map<number, number>();
  const done = new Set<number>();
  const results = new Map<number, NodeResult>();
  const progress = new Array<number>(n).fill(0);
  let setupError: { msg: string; retryable: boolean } | undefined;
  let wake: () => void = () => {};
  const changed = (): void => wake();
  const onMessage = (m: WorkerMsg): void => {
    if (m.run !== run) return;
    switch (m.t) {
      case "ready":
        ready.add(m.id);
        break;
      case "error":
        setupError ??= { msg: `node ${m.id}: ${m.msg}`, retryable: m.retryable };
        break;
      case "progress":
        progress[m.id] = m.delivered;
        break;
      case "sent":
        sent.set(m.id, m.count);
        break;
      case "done":
        done.add(m.id);
        break;
      case "result":
        results.set(m.result.id, m.result);
        break;
      case "reset-done":
        resetDone();
        break;
      default:
        return;
    }
    changed();
  };
  /** Wait until `cond` holds, or `deadline` (monotonic ms) passes; true when it held. */
  const until = async (cond: () => boolean, deadline: number, anyway = false): Promise<boolean> => {
    while (!cond()) {
      const left = deadline - mono();
      if (left <= 0 || (setupError && !anyway)) return cond();
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 250));
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      wake = () => {};
      if (opts.progress && goAt > 0) showProgress();
    }
    return true;
  };
  let goAt = 0;
  let killAt = 0;
  let lastShown = 0;
  const plannedTotal = plannedCount(spec) * (n - spec.down) * (n - spec.down);
  const showProgress = (): void => {
    const now = mono();
    if (now - lastShown < 200) return;
    lastShown = now;
    let d = 0;
    for (const i of live) d += progress[i] as number;
    const pct = plannedTotal > 0 ? Math.min(100, (100 * d) / plannedTotal) : 0;
    const label = opts.label ? `[${opts.label}] ` : "";
    opts.progress?.(
      `${label}${describe(spec)}: delivered ${d}/${plannedTotal} (${pct.toFixed(0)}%) ${((now - goAt) / 1000).toFixed(1)} s`,
    );
  };

  let resetCount = 0;
  const resetDone = (): void => {
    resetCount++;
  };

  try {
    workers.forEach((w, i) => {
      w.onMessage = onMessage;
      w.onExit = (how) => {
        exits[i] = how;
        live.delete(i);
        changed();
      };
      live.add(i);
    });
    for (let i = 0; i < n; i++) {
      (workers[i] as WorkerHandle).send({
        t: "init",
        run,
        id: i,
        spec,
        ports,
        ...(opts.stateDir ? { stateDir: opts.stateDir } : {}),
      });
    }
    const setupDeadline = mono() + setupMs(n);
    const allReady = await until(
      () => ready.size === n || exits.some((x) => x !== undefined),
      setupDeadline,
    );
    if (setupError) {
      const err = setupError as { msg: string; retryable: boolean };
      if (err.retryable) throw new RetryableSetupError(err.msg);
      throw new Error(err.msg);
    }
    if (!allReady || ready.size !== n) {
      const gone = exits.map((x, i) => (x ? `node ${i} ${x}` : "")).filter(Boolean);
      throw new Error(
        gone.length > 0
          ? `benchmark node died during setup: ${gone.join(", ")}`
          : `nodes did not find each other within ${setupMs(n) / 1000} s (${ready.size}/${n} ready)`,
      );
    }
    // The highest ids are the members that go down.
    if (spec.down > 0) killAt = mono();
    for (let i = n - spec.down; i < n; i++) {
      (workers[i] as WorkerHandle).kill();
      live.delete(i);
    }
    goAt = mono() + START_DELAY_MS;
    const rcvbufAtGo = rcvbufErrors();
    for (const i of live) (workers[i] as WorkerHandle).send({ t: "go", at: goAt });
    const deadline = goAt + opts.timeoutMs;
    const liveIds = [...live];
    const crashed = (): boolean => liveIds.some((i) => exits[i] !== undefined);
    const allSent =
      (await until(() => liveIds.every((i) => sent.has(i)) || crashed(), deadline)) && !crashed();
    const expected = new Array<number>(n).fill(0);
    for (const [i, c] of sent) expected[i] = c;
    let complete = false;
    if (allSent) {
      for (const i of liveIds) {
        (workers[i] as WorkerHandle).send({ t: "expect", counts: expected });
      }
      complete =
        (await until(() => liveIds.every((i) => done.has(i)) || crashed(), deadline)) && !crashed();
    }
    for (const i of liveIds) {
      if (exits[i] !== undefined) problems.push(`node ${i} died during the run (${exits[i]})`);
    }
    if (!complete) {
      problems.push(
        allSent
          ? `incomplete: not every message delivered everywhere within ${opts.timeoutMs / 1000} s`
          : `incomplete: senders still sending after ${opts.timeoutMs / 1000} s`,
      );
    }
    for (const i of liveIds) (workers[i] as WorkerHandle).send({ t: "collect" });
    await until(() => liveIds.every((i) => results.has(i) || !live.has(i)), mono() + COLLECT_MS);
    const wallMs = mono() - goAt;
    const kernelDrops = rcvbufErrors() - rcvbufAtGo;
    for (const i of liveIds) {
      if (!results.has(i)) problems.push(`node ${i} gave no result (${exits[i] ?? "hung"})`);
    }
    const nodes = liveIds.flatMap((i) => results.get(i) ?? []);
    const verified = verify(spec, nodes, expected, complete, problems);
    const timedOut = !complete && !crashed();
    return {
      spec,
      complete,
      timedOut,
      verified,
      problems,
      goAt,
      killAt,
      wallMs,
      kernelDrops,
      expected,
      nodes,
    };
  } finally {
    // Close every node (the processes stay for the next run); kill what does not answer.
    const alive = workers.filter((w) => w.alive);
    for (const w of alive) w.send({ t: "reset", run });
    const ok = await until(
      () => resetCount >= alive.filter((w) => w.alive).length,
      mono() + 5000,
      true,
    );
    if (!ok) for (const w of workers) w.kill();
    for (const w of workers) {
      w.onMessage = () => {};
      w.onExit = () => {};
    }
  }
}

/** Cross-node checks on top of each node's own: completeness and one total order. */
function verify(
  spec: WorkloadSpec,
  nodes: NodeResult[],
  expected: number[],
  complete: boolean,
  problems: string[],
): boolean {
  let ok = true;
  for (const r of nodes) {
    if (r.rejoins > 0) {
      // A new member gets recent history by state transfer, not every message since the
      // start: its deliveries are checked as if it had stayed, so gaps show up below.
      problems.push(
        `node ${r.id} started over as a new member ${r.rejoins} time(s) during the run`,
      );
    }
    if (r.violations > 0) {
      ok = false;
      problems.push(`node ${r.id}: ${r.violations} delivery violations`, ...r.violationSamples);
    }
    if (complete) {
      for (let k = 0; k < expected.length; k++) {
        if (r.perSender[k] !== expected[k]) {
          ok = false;
          problems.push(
            `node ${r.id} delivered ${r.perSender[k]} messages of node ${k}, which sent ${expected[k]}`,
          );
        }
      }
    }
  }
  if (spec.ordering === "total" && complete && nodes.length > 0) {
    const first = nodes[0] as NodeResult;
    for (const r of nodes) {
      if (r.orderHash !== first.orderHash) {
        ok = false;
        problems.push(`total order differs between node ${first.id} and node ${r.id}`);
      }
    }
  }
  return ok;
}
