import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BenchArgs, BenchPlan } from "./args.js";
import { type Baseline, measureBaseline } from "./baseline.js";
import { notRun, type RunResult, runWorkload } from "./coordinator.js";
import type { EdgeOptions, EdgeResult } from "./edges.js";
import { writePlot } from "./plot.js";
import { formatProfile, summarizeProfiles } from "./profile.js";
import { formatReport, jsonReport, machine, type Report } from "./report.js";
import type { SimSpeed } from "./sim-speed.js";
import { type Aggregate, aggregate } from "./stats.js";
import { runEdgeSuite, runScale, runTargets, type TargetCheck } from "./suite.js";
import { spawnWorker, WorkerPool } from "./workers.js";
import { type WorkloadSpec, warmupPlan } from "./workloads.js";

/** Progress on stderr: one line rewritten in place on a terminal, a line every 2 s otherwise. */
function progressPrinter(quiet: boolean) {
  const tty = process.stderr.isTTY === true;
  let last = 0;
  let shown = false;
  return {
    show(line: string): void {
      if (quiet) return;
      if (tty) {
        process.stderr.write(`\r\x1b[K${line}`);
        shown = true;
        return;
      }
      const now = Date.now();
      if (now - last < 2000) return;
      last = now;
      process.stderr.write(`${line}\n`);
    },
    clear(): void {
      if (shown) process.stderr.write("\r\x1b[K");
      shown = false;
    },
  };
}

/** `rmchat bench` after its flags were validated: baseline, workloads, report. Returns the exit code. */
export async function runBench(a: BenchArgs, plan: BenchPlan): Promise<number> {
  const { specs, suite, memoryDuration } = plan;
  const progress = progressPrinter(a.quiet);
  const host = machine();
  if (host.loadAtStart > 0.5 && !a.quiet) {
    process.stderr.write(
      `rmchat bench: load average is ${host.loadAtStart.toFixed(2)}: other work on this machine will skew the figures\n`,
    );
  }
  const cpuProfDir = a.cpuProf;
  let baseline: Baseline | undefined;
  // The edges compare with their own raw-UDP chat, not with the ping-pong and flood.
  if (a.baseline && suite !== "edges") {
    progress.show("measuring raw UDP (ping-pong, flood)…");
    try {
      baseline = await measureBaseline((o) => spawnWorker(o), specs[0]?.size ?? 100);
    } catch (e) {
      progress.clear();
      process.stderr.write(`rmchat bench: raw UDP baseline failed: ${(e as Error).message}\n`);
    }
  }
  /** Measured runs' time spans (monotonic ms), to cut warm-up out of the CPU profiles. */
  const measured: Array<[number, number]> = [];
  if (cpuProfDir) mkdirSync(cpuProfDir, { recursive: true });
  const stateDir = mkdtempSync(join(tmpdir(), "rmchat-bench-"));
  /** A workload's warm-up runs, then one measured run per call of `measure`. */
  const open = async (spec: WorkloadSpec) => {
    const pool = new WorkerPool(a.inProcess, { cpuProfDir });
    const timeoutMs = (a.timeout + (spec.workload === "paced" ? spec.duration : 0)) * 1000;
    const results: RunResult[] = [];
    try {
      // Unmeasured runs in the same processes: V8 compiles the whole path (socket, runtime,
      // core, checks) before the measured runs. Protocol state is fresh in every run.
      // As warm at every group size (warmupPlan): the same deliveries per process.
      const warm = warmupPlan(spec, a.warmupRuns);
      const warmups = warm.runs;
      for (let i = 1; i <= warmups; i++) {
        const r = await runWorkload(warm.spec, {
          pool,
          stateDir,
          timeoutMs: a.timeout * 1000,
          label: `warm-up ${i}/${warmups}`,
          progress: (line) => progress.show(line),
        });
        if (r.timedOut) break;
      }
    } catch (e) {
      await pool.close();
      throw e;
    }
    return {
      results,
      close: () => pool.close(),
      measure: async (label: string) => {
        const r = await runWorkload(spec, {
          pool,
          stateDir,
          timeoutMs,
          label,
          progress: (line) => progress.show(line),
        });
        results.push(r);
        measured.push([r.goAt, r.goAt + r.wallMs]);
      },
    };
  };
  const exec = async (spec: WorkloadSpec, runs: number): Promise<Aggregate> => {
    let w: Awaited<ReturnType<typeof open>>;
    try {
      w = await open(spec);
    } catch (e) {
      return aggregate([notRun(spec, `setup: ${e instanceof Error ? e.message : String(e)}`)]);
    }
    try {
      for (let i = 1; i <= runs; i++) {
        await w.measure(`run ${i}/${runs}`);
        // A run that hit its deadline would again: bounded time, the row says "timed out".
        if (w.results[w.results.length - 1]?.timedOut) break;
      }
    } catch (e) {
      w.results.push(notRun(spec, `setup: ${e instanceof Error ? e.message : String(e)}`));
    } finally {
      await w.close();
    }
    return aggregate(w.results);
  };
  /**
   * --keys: the plain workload and its sealed twin measured in turns (plain, sealed, plain…),
   * so that load from elsewhere on the machine weighs on both alike.
   */
  const execPair = async (plain: WorkloadSpec, sealed: WorkloadSpec, runs: number) => {
    const p = await open(plain);
    let s: Awaited<ReturnType<typeof open>> | undefined;
    try {
      s = await open(sealed);
      for (let i = 1; i <= runs; i++) {
        await p.measure(`run ${i}/${runs}`);
        await s.measure(`run ${i}/${runs}`);
      }
    } finally {
      await s?.close();
      await p.close();
    }
    return [aggregate(p.results), aggregate(s.results)];
  };
  let rows: Aggregate[] = [];
  let targets: TargetCheck[] | undefined;
  let edges: EdgeResult[] | undefined;
  let sim: SimSpeed[] | undefined;
  const base = specs[0] as WorkloadSpec;
  // Scale rows: --scale-nodes, else a comma list given to -n, else 2..32; --count, else 1000.
  const scaleNodes =
    plan.scaleNodes ?? (String(a.nodes).includes(",") ? specs.map((s) => s.nodes) : undefined);
  const scaleCount = a.count === 200 ? 1000 : a.count;
  const edgeOpts: EdgeOptions = {
    nodes: 4,
    lone: a.lone,
    pacedRate: 100,
    pacedSeconds: a.cliDuration,
    idleSeconds: a.idle,
    burstCount: 200,
    burstDrop: 0.1,
    python: a.python,
    timeoutS: a.timeout,
    progress: (line) => progress.show(line),
  };
  try {
    if (suite === "edges") {
      ({ edges, targets } = await runEdgeSuite(edgeOpts));
    } else if (suite === "targets") {
      ({ rows, targets, edges, sim } = await runTargets(
        {
          base,
          runs: a.runs,
          memoryDuration,
          scaleNodes,
          scaleCount,
          baseline,
          edges: a.lone > 0 ? edgeOpts : undefined,
          simRuns: a.simRuns,
          progress: (line) => progress.show(line),
        },
        exec,
      ));
    } else if (suite === "scale") {
      ({ rows, targets } = await runScale(
        { base, runs: a.runs, memoryDuration, scaleNodes, scaleCount },
        exec,
      ));
    } else if (a.keys === true) {
      // parseBenchArgs put each sealed spec right after its plain twin.
      for (let k = 0; k + 1 < specs.length; k += 2)
        rows.push(
          ...(await execPair(specs[k] as WorkloadSpec, specs[k + 1] as WorkloadSpec, a.runs)),
        );
    } else {
      for (const spec of specs) rows.push(await exec(spec, a.runs));
    }
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
  progress.clear();
  const report: Report = {
    machine: host,
    command: `rmchat bench ${process.argv.slice(3).join(" ")}`.trim(),
    baseline,
    rows,
    targets,
  };
  if (edges) report.edges = edges;
  if (sim) report.sim = sim;
  if (cpuProfDir) report.profile = summarizeProfiles(cpuProfDir, measured);
  let saveFailed = false;
  if (a.save !== undefined) {
    try {
      writeFileSync(a.save, `${jsonReport(report)}\n`);
    } catch (e) {
      saveFailed = true;
      const code = (e as NodeJS.ErrnoException).code ?? String(e);
      process.stderr.write(`rmchat: error: cannot write the report to ${a.save}: ${code}\n`);
    }
  }
  if (a.plot !== undefined) {
    try {
      writePlot(a.plot, report);
    } catch (e) {
      saveFailed = true;
      process.stderr.write(`rmchat: error: ${(e as Error).message}\n`);
    }
  }
  let text = a.json ? jsonReport(report) : formatReport(report);
  if (cpuProfDir && report.profile && !a.json)
    text += `\n\n${formatProfile(report.profile, cpuProfDir)}`;
  process.stdout.write(`${text}\n`);
  const ok = rows.every((r) => r.median.verified && r.median.complete);
  return saveFailed ? 2 : ok ? 0 : 1;
}
