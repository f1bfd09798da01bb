import { writeFileSync } from "node:fs";
import { ORDERINGS, type Ordering } from "../core/types.js";
import { type CampaignResult, campaign, defaultJobs, type ModeResult } from "./campaign.js";
import { diagramFile, diagramOfPlan } from "./diagram.js";
import { faultLine, fuzz, pauseLine } from "./property.js";
import { simulated } from "./runner.js";
import type { CrashStyle, Plan } from "./scenario.js";

/** Below this many runs in all, workers cost more to start than they save: default to one. */
const SMALL = 60;

const USAGE = `usage: npm run fuzz -- [--runs N] [--mode fifo|causal|total] [--seed S] [--path P] [--crash clean|abrupt] [--jobs J] [--diagram FILE]
  --runs N     scenarios per mode (default 1000)
  --mode M     one ordering mode (default: all three)
  --seed S     fast-check seed (default: random, printed)
  --path P     replay the counterexample at this path (needs --seed and --mode)
  --crash C    abrupt (default): a crash at any instant, mid-send included (SIGKILL);
               clean: a crash waits until the victim's messages are acknowledged
  --jobs J     worker threads running chunks of runs in parallel (default: one per core,
               or 1 below ${SMALL} runs in all; 1: everything in this process). The verdicts
               do not depend on it.
  --diagram F  on failure, write the space-time diagram of the shrunk counterexample to F
               (HTML; with several failing modes, F gets the mode before its extension)
At the end, per mode: "faults <mode>: runs R, abrupt crashes C, restarts S, late starts L,
partitions P" (runs with at least one of each), then "pauses <mode>: runs R, paused Q", then the
campaign line with the runs/s.`;

interface Args {
  runs: number;
  modes: Ordering[];
  seed: number;
  path: string | undefined;
  crash: CrashStyle;
  jobs: number | undefined;
  diagram: string | undefined;
}

function fail(msg: string): never {
  process.stderr.write(`fuzz: ${msg}\n${USAGE}\n`);
  process.exit(2);
}

function parse(argv: string[]): Args {
  const a: Args = {
    runs: 1000,
    modes: [...ORDERINGS],
    seed: Math.floor(Math.random() * 0x7fffffff),
    path: undefined,
    crash: "abrupt",
    jobs: undefined,
    diagram: undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const v = argv[i + 1];
    if (flag === "--help" || flag === "-h") {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    }
    if (
      !["--runs", "--seed", "--path", "--mode", "--crash", "--jobs", "--diagram"].includes(
        flag ?? "",
      )
    ) {
      fail(`unknown option ${flag}`);
    }
    if (v === undefined) fail(`missing value for ${flag}`);
    i++;
    const int = (): number => {
      const n = Number(v);
      if (!Number.isSafeInteger(n) || (n < 0 && flag !== "--seed"))
        fail(`${flag} wants a non-negative integer (got ${v})`);
      return n;
    };
    if (flag === "--runs") a.runs = Math.max(1, int());
    else if (flag === "--jobs") a.jobs = Math.max(1, int());
    else if (flag === "--seed") a.seed = int() | 0;
    else if (flag === "--path") a.path = v;
    else if (flag === "--diagram") a.diagram = v;
    else if (flag === "--mode") {
      if (!ORDERINGS.includes(v as Ordering)) fail(`unknown mode ${v}`);
      a.modes = [v as Ordering];
    } else if (flag === "--crash") {
      if (v !== "clean" && v !== "abrupt") fail(`unknown crash style ${v}`);
      a.crash = v;
    }
  }
  if (a.path !== undefined && a.modes.length !== 1) fail("--path needs --mode");
  return a;
}

/** "123 runs/s, 4567 virtual s per wall s" for `runs` runs and `virtualMs` simulated in `wallMs`. */
function speed(runs: number, virtualMs: number, wallMs: number): string {
  const secs = Math.max(0.001, wallMs / 1000);
  return `${(runs / secs).toFixed(1)} runs/s, ${(virtualMs / 1000 / secs).toFixed(0)} virtual s per wall s`;
}

function printMode(a: Args, r: ModeResult): void {
  const verdict = r.ok ? "ok" : "FAILED";
  const secs = (r.wallMs / 1000).toFixed(1);
  process.stdout.write(
    `${r.mode}: ${verdict}, ${r.executed} scenario(s) in ${secs} s (seed ${a.seed}): ${speed(r.executed, r.virtualMs, r.wallMs)}\n`,
  );
  if (r.report) process.stdout.write(`${r.report}\n`);
}

/** `--diagram`: the shrunk counterexample replayed with a recorder, drawn; its path printed. */
function writeDiagram(a: Args, mode: Ordering, plan: Plan, base: string): void {
  const file = diagramFile(base, mode, a.modes.length > 1);
  const title = `fuzz counterexample: mode ${mode}, seed ${a.seed} (shrunk)`;
  try {
    writeFileSync(file, diagramOfPlan(plan, {}, title).html);
    process.stdout.write(`diagram: ${file}\n`);
  } catch (e) {
    process.stderr.write(`fuzz: no diagram written to ${file}: ${(e as Error).message}\n`);
  }
}

/** Replay one counterexample path in this process. */
function replay(a: Args, mode: Ordering, path: string): ModeResult {
  const t0 = performance.now();
  const before = { ...simulated };
  const out = fuzz({ mode, runs: a.runs, seed: a.seed, path, crash: a.crash });
  return {
    ...out,
    wallMs: performance.now() - t0,
    virtualMs: simulated.virtualMs - before.virtualMs,
    events: simulated.events - before.events,
  };
}

async function main(a: Args): Promise<number> {
  const jobs =
    a.path !== undefined ? 1 : (a.jobs ?? (a.runs * a.modes.length < SMALL ? 1 : defaultJobs()));
  process.stdout.write(
    `fuzz: seed ${a.seed}, ${a.runs} run(s) per mode, crash style ${a.crash}, ${jobs} worker(s)\n`,
  );
  const tty = process.stderr.isTTY === true;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let last = t0;
  const progress = (mode: Ordering, n: number, shrinking: boolean): void => {
    const now = performance.now();
    if (now - last < (tty ? 250 : 5000)) return;
    last = now;
    const what = shrinking ? `shrinking (${n} runs)` : `${n}/${a.runs} runs`;
    process.stderr.write(`${tty ? "\r" : ""}[${mode}] ${what}${tty ? "   " : "\n"}`);
  };
  let res: CampaignResult;
  if (a.path !== undefined) {
    const mode = a.modes[0] as Ordering;
    const r = replay(a, mode, a.path);
    res = { modes: [r], wallMs: r.wallMs, jobs: 1 };
  } else {
    res = await campaign({
      modes: a.modes,
      runs: a.runs,
      seed: a.seed,
      crash: a.crash,
      jobs,
      onProgress: progress,
    });
  }
  if (tty) process.stderr.write("\r\x1b[K");
  for (const r of res.modes) {
    printMode(a, r);
    if (!r.ok && r.plan && a.diagram !== undefined) writeDiagram(a, r.mode, r.plan, a.diagram);
  }
  for (const r of res.modes) process.stdout.write(`${faultLine(r.mode, r.faults)}\n`);
  for (const r of res.modes) process.stdout.write(`${pauseLine(r.mode, r.faults)}\n`);
  let executed = 0;
  let virtualMs = 0;
  for (const r of res.modes) {
    executed += r.executed;
    virtualMs += r.virtualMs;
  }
  // CPU time of this process and its worker threads: the figure a shared machine does not skew.
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  process.stdout.write(
    `campaign: ${executed} scenario(s) in ${(res.wallMs / 1000).toFixed(1)} s on ${res.jobs} worker(s): ${speed(executed, virtualMs, res.wallMs)}; ${(cpuMs / 1000).toFixed(1)} CPU s, ${(executed / Math.max(0.001, cpuMs / 1000)).toFixed(1)} runs per CPU s\n`,
  );
  return res.modes.some((r) => !r.ok) ? 1 : 0;
}

main(parse(process.argv.slice(2))).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`fuzz: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 2;
  },
);
