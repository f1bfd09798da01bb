import { ORDERINGS, type Ordering } from "../core/types.js";
import { type FuzzOutcome, faultLine, fuzz } from "./property.js";
import type { CrashStyle } from "./scenario.js";

const USAGE = `usage: npm run fuzz -- [--runs N] [--mode fifo|causal|total] [--seed S] [--path P] [--crash clean|abrupt]
  --runs N     scenarios per mode (default 1000)
  --mode M     one ordering mode (default: all three)
  --seed S     fast-check seed (default: random, printed)
  --path P     replay the counterexample at this path (needs --seed and --mode)
  --crash C    abrupt (default): a crash at any instant, mid-send included (SIGKILL);
               clean: a crash waits until the victim's messages are acknowledged
At the end, per mode: "faults <mode>: runs R, abrupt crashes C, restarts S, late starts L,
partitions P" (runs with at least one of each), then the overall runs/s.`;

interface Args {
  runs: number;
  modes: Ordering[];
  seed: number;
  path: string | undefined;
  crash: CrashStyle;
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
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const v = argv[i + 1];
    if (flag === "--help" || flag === "-h") {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    }
    if (!["--runs", "--seed", "--path", "--mode", "--crash"].includes(flag ?? "")) {
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
    else if (flag === "--seed") a.seed = int() | 0;
    else if (flag === "--path") a.path = v;
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

function runMode(a: Args, mode: Ordering): FuzzOutcome {
  const t0 = Date.now();
  let last = t0;
  const tty = process.stderr.isTTY === true;
  const progress = (n: number, shrinking: boolean): void => {
    const now = Date.now();
    if (now - last < (tty ? 250 : 5000)) return;
    last = now;
    const rate = (n / Math.max(0.001, (now - t0) / 1000)).toFixed(0);
    const what = shrinking ? `shrinking (${n} runs)` : `${n}/${a.runs} runs`;
    process.stderr.write(`${tty ? "\r" : ""}[${mode}] ${what}, ${rate}/s${tty ? "   " : "\n"}`);
  };
  const out = fuzz({
    mode,
    runs: a.runs,
    seed: a.seed,
    path: a.path,
    crash: a.crash,
    onProgress: progress,
  });
  const secs = (Date.now() - t0) / 1000;
  if (tty) process.stderr.write("\r\x1b[K");
  const verdict = out.ok ? "ok" : "FAILED";
  const rate = (out.executed / Math.max(0.001, secs)).toFixed(1);
  process.stdout.write(
    `${mode}: ${verdict}, ${out.executed} scenario(s) in ${secs.toFixed(1)} s, ${rate} runs/s (seed ${a.seed})\n`,
  );
  if (out.report) process.stdout.write(`${out.report}\n`);
  return out;
}

const args = parse(process.argv.slice(2));
process.stdout.write(
  `fuzz: seed ${args.seed}, ${args.runs} run(s) per mode, crash style ${args.crash}\n`,
);
let failed = 0;
let executed = 0;
const t0 = Date.now();
const outcomes: FuzzOutcome[] = [];
for (const m of args.modes) {
  const out = runMode(args, m);
  outcomes.push(out);
  executed += out.executed;
  if (!out.ok) failed++;
}
for (const out of outcomes) process.stdout.write(`${faultLine(out.mode, out.faults)}\n`);
const secs = Math.max(0.001, (Date.now() - t0) / 1000);
process.stdout.write(
  `runs/s: ${(executed / secs).toFixed(1)} (${executed} runs in ${secs.toFixed(1)} s)\n`,
);
process.exitCode = failed > 0 ? 1 : 0;
