import { writeFileSync } from "node:fs";
import { ORDERINGS, type Ordering } from "../core/types.js";
import { diagramFile, diagramOfPlan } from "../trace/sim-diagram.js";
import { type FuzzOutcome, fuzz } from "./property.js";
import type { CrashStyle } from "./scenario.js";

const USAGE = `usage: npm run fuzz -- [--runs N] [--mode fifo|causal|total] [--seed S] [--path P] [--crash clean|abrupt] [--diagram FILE]
  --runs N     scenarios per mode (default 1000)
  --mode M     one ordering mode (default: all three)
  --seed S     fast-check seed (default: random, printed)
  --path P     replay the counterexample at this path (needs --seed and --mode)
  --crash C    clean (default): a crash waits until the victim's messages are acknowledged;
               abrupt: crash mid-send (agreement is then not guaranteed yet)
  --diagram F  on failure, write the space-time diagram of the shrunk counterexample to F
               (HTML; with several failing modes, F gets the mode before its extension)`;

interface Args {
  runs: number;
  modes: Ordering[];
  seed: number;
  path: string | undefined;
  crash: CrashStyle;
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
    crash: "clean",
    diagram: undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const v = argv[i + 1];
    if (flag === "--help" || flag === "-h") {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    }
    if (!["--runs", "--seed", "--path", "--mode", "--crash", "--diagram"].includes(flag ?? "")) {
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
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  if (tty) process.stderr.write("\r\x1b[K");
  const verdict = out.ok ? "ok" : "FAILED";
  process.stdout.write(
    `${mode}: ${verdict}, ${out.executed} scenario(s) in ${secs} s (seed ${a.seed})\n`,
  );
  if (out.report) process.stdout.write(`${out.report}\n`);
  if (!out.ok && out.plan && a.diagram !== undefined) {
    const file = diagramFile(a.diagram, mode, a.modes.length > 1);
    const title = `fuzz counterexample: mode ${mode}, seed ${a.seed} (shrunk)`;
    try {
      writeFileSync(file, diagramOfPlan(out.plan, {}, title).html);
      process.stdout.write(`diagram: ${file}\n`);
    } catch (e) {
      process.stderr.write(`fuzz: no diagram written to ${file}: ${(e as Error).message}\n`);
    }
  }
  return out;
}

const args = parse(process.argv.slice(2));
process.stdout.write(
  `fuzz: seed ${args.seed}, ${args.runs} run(s) per mode, crash style ${args.crash}\n`,
);
let failed = 0;
for (const m of args.modes) if (!runMode(args, m).ok) failed++;
process.exitCode = failed > 0 ? 1 : 0;
