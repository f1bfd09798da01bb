import { randomBytes } from "node:crypto";
import type { ArgumentsCamelCase, Argv, CommandModule } from "yargs";
import type { BenchArgs, BenchPlan } from "../bench/args.js";
import { checkPythonDir, SUITES, type SuiteName } from "../bench/args.js";
import {
  BOUNDS,
  plannedCount,
  WORKLOADS,
  type WorkloadKind,
  type WorkloadSpec,
} from "../bench/workloads.js";
import { loadConfig } from "../config/config.js";
import { DEFAULT_LIMITS, ORDERINGS, type Ordering, type ProtocolLimits } from "../core/types.js";
import { validateFaults } from "../runtime/faults.js";
import { UsageError } from "./errors.js";

export type { BenchArgs, BenchPlan };

function builder(y: Argv) {
  return y
    .option("workload", {
      alias: "w",
      type: "string",
      default: "burst",
      describe: `burst: every node sends --count messages at once; paced: --rate msg/s per node for --duration s; chain: each node sends when it delivers the previous link (${WORKLOADS.join("|")})`,
    })
    .option("nodes", {
      alias: "n",
      type: "string",
      default: "4",
      describe: `nodes (processes) on loopback, ${BOUNDS.nodes[0]}..${BOUNDS.nodes[1]}; a comma list (2,4,8,16) runs each`,
    })
    .option("count", {
      alias: "c",
      type: "number",
      default: 200,
      describe: "burst, chain: messages sent per node",
    })
    .option("rate", {
      type: "number",
      default: 100,
      describe: "paced: messages per second per node",
    })
    .option("duration", {
      type: "number",
      describe: "paced: seconds of sending (default 10; --suite targets: memory rows, default 60)",
    })
    .option("ordering", {
      alias: "o",
      type: "string",
      default: "causal",
      describe: `delivery order (${ORDERINGS.join("|")})`,
    })
    .option("delay", {
      type: "number",
      default: 0,
      describe: "mean delay in seconds added to every datagram (uniform in [0, 2*delay])",
    })
    .option("drop", {
      type: "number",
      default: 0,
      describe: "probability in [0, 1) that a datagram is dropped (data, acks and retransmissions)",
    })
    .option("size", { type: "number", default: 100, describe: "bytes per message" })
    .option("down", {
      type: "number",
      default: 0,
      describe:
        "nodes (the highest ids) killed at the start instant, to measure a dead member's cost",
    })
    .option("runs", {
      type: "number",
      default: 1,
      describe: "runs per workload; the table shows medians",
    })
    .option("timeout", {
      type: "number",
      default: 60,
      describe:
        "seconds a run may take (after a paced run's --duration) before its nodes are killed and it is reported incomplete",
    })
    .option("suite", {
      type: "string",
      describe: `a named set of workloads: targets (every target of issue 10, scale rows included), scale (bursts from 2 to 32 nodes, causal and total), edges (only the edges of targets 8 and 9: real CLI processes over pipes) (${SUITES.join("|")})`,
    })
    .option("config", {
      type: "string",
      describe:
        "take protocol limits (window, maxDatagram, rto…) from this config; its hosts are ignored",
    })
    .option("in-process", {
      type: "boolean",
      default: false,
      describe:
        "run all nodes in this process (still real UDP sockets) instead of one process each",
    })
    .option("baseline", {
      type: "boolean",
      default: true,
      describe:
        "measure raw Node UDP (ping-pong RTT, flood) in the same run; --no-baseline skips it",
    })
    .option("warmup-runs", {
      type: "number",
      default: 3,
      describe:
        "unmeasured burst runs in the same node processes before a workload's measured runs, so V8 has compiled the hot paths (0: measure cold processes)",
    })
    .option("json", { type: "boolean", default: false, describe: "print the report as JSON" })
    .option("save", {
      type: "string",
      describe: "also write the JSON report to this file",
    })
    .option("plot", {
      type: "string",
      describe:
        "also write the report as charts (latency CDF, throughput per node against N, retransmissions) to this self-contained HTML file",
    })
    .option("from", {
      type: "string",
      describe: "with --plot: plot a report saved with --save instead of running the benchmark",
    })
    .option("quiet", {
      alias: "q",
      type: "boolean",
      default: false,
      describe: "no progress line on stderr",
    })
    .option("keys", {
      type: "boolean",
      default: false,
      describe:
        "run every workload twice in one run: plain, then sealed (AES-256-GCM, a fresh key); the report gives sealed as % of plain",
    })
    .option("python", {
      type: "string",
      describe:
        "--suite targets|edges: also drive the Python original (a reliable-multicast-chat checkout in DIR, run with python3 from a temporary copy) with the same black-box workloads",
    })
    .option("lone", {
      type: "number",
      default: 200,
      describe:
        "--suite targets|edges: lone messages typed at one CLI node and read at the others (rmchat, raw UDP chat, the original); 0 skips the edges",
    })
    .option("idle", {
      type: "number",
      default: 30,
      describe: "--suite targets|edges: seconds four idle CLI nodes are measured for CPU (0 skips)",
    })
    .option("cli-duration", {
      type: "number",
      default: 10,
      describe:
        "--suite targets|edges: seconds of lines paced at 100/s per node over the CLI (0 skips)",
    })
    .option("sim-runs", {
      type: "number",
      default: 500,
      describe:
        "--suite targets: fuzz scenarios per mode (fixed seed) timed for the simulator's speed (0 skips)",
    })
    .option("scale-nodes", {
      type: "string",
      describe:
        "--suite targets|scale: node counts of the scale rows, a comma list (default 2,4,8,16,32)",
    })
    .option("cpu-prof", {
      type: "string",
      describe: "write a V8 CPU profile of every node process into this directory",
    });
}

function inRange(name: string, v: number, [lo, hi]: readonly [number, number], int = true): number {
  if (!Number.isFinite(v) || v < lo || v > hi || (int && !Number.isInteger(v))) {
    throw new UsageError(
      `--${name} must be ${int ? "an integer" : "a number"} in ${lo}..${hi} (got ${v})`,
    );
  }
  return v;
}

/** Validate the flags into one spec per node count; throws a one-line UsageError. */
export function parseBenchArgs(a: BenchArgs): BenchPlan {
  if (!WORKLOADS.includes(a.workload as WorkloadKind)) {
    throw new UsageError(`unknown workload "${a.workload}" (use ${WORKLOADS.join(", ")})`);
  }
  if (!ORDERINGS.includes(a.ordering as Ordering)) {
    throw new UsageError(`unknown ordering "${a.ordering}" (use ${ORDERINGS.join(", ")})`);
  }
  if (a.suite !== undefined && !SUITES.includes(a.suite as SuiteName)) {
    throw new UsageError(`unknown suite "${a.suite}" (use ${SUITES.join(", ")})`);
  }
  const faultErr = validateFaults(a.delay, a.drop);
  if (faultErr) throw new UsageError(faultErr);
  if (a.delay > 10) throw new UsageError(`--delay must be at most 10 s (got ${a.delay})`);
  const nodesList = String(a.nodes)
    .split(",")
    .map((s) => s.trim());
  const nodes = nodesList.map((s) => {
    if (!/^\d+$/.test(s)) throw new UsageError(`--nodes must be integers (got "${a.nodes}")`);
    return inRange("nodes", Number(s), BOUNDS.nodes);
  });
  inRange("count", a.count, BOUNDS.count);
  inRange("rate", a.rate, BOUNDS.rate, false);
  const duration = a.duration ?? 10;
  inRange("duration", duration, BOUNDS.duration, false);
  inRange("runs", a.runs, BOUNDS.runs);
  inRange("timeout", a.timeout, BOUNDS.timeout, false);
  inRange("warmup-runs", a.warmupRuns, BOUNDS.warmupRuns);
  let limits: ProtocolLimits = { ...DEFAULT_LIMITS };
  if (a.config !== undefined) limits = loadConfig(a.config).limits;
  inRange("size", a.size, [BOUNDS.size[0], limits.maxMessageBytes]);
  if (a.cpuProf !== undefined && a.inProcess) {
    throw new UsageError(
      "--cpu-prof profiles node processes; it does not combine with --in-process",
    );
  }
  inRange("lone", a.lone, [0, 10_000]);
  inRange("idle", a.idle, [0, 600], false);
  inRange("cli-duration", a.cliDuration, [0, 600], false);
  inRange("sim-runs", a.simRuns, [0, 100_000]);
  let scaleNodes: number[] | undefined;
  if (a.scaleNodes !== undefined) {
    scaleNodes = String(a.scaleNodes)
      .split(",")
      .map((x) => {
        if (!/^\s*\d+\s*$/.test(x)) {
          throw new UsageError(`--scale-nodes must be integers (got "${a.scaleNodes}")`);
        }
        return inRange("scale-nodes", Number(x), BOUNDS.nodes);
      });
  }
  if (a.python !== undefined) {
    if (a.suite !== "targets" && a.suite !== "edges")
      throw new UsageError("--python needs --suite targets or --suite edges");
    const err = checkPythonDir(a.python);
    if (err) throw new UsageError(err);
  }
  if (a.keys === true && a.suite !== undefined)
    throw new UsageError("--keys compares single workloads; it does not combine with --suite");
  const workload = a.workload as WorkloadKind;
  const specs = nodes.map((n): WorkloadSpec => {
    if (!Number.isInteger(a.down) || a.down < 0 || a.down > n - 2) {
      throw new UsageError(
        `--down must be an integer in 0..${n - 2} with ${n} nodes (got ${a.down})`,
      );
    }
    if (a.down > 0 && workload === "chain") {
      throw new UsageError(
        "--down does not combine with the chain workload (the chain would break)",
      );
    }
    const spec: WorkloadSpec = {
      workload,
      nodes: n,
      count: a.count,
      rate: a.rate,
      duration,
      ordering: a.ordering as Ordering,
      delay: a.delay,
      drop: a.drop,
      size: a.size,
      down: a.down,
      warmup: a.warmupRuns > 0,
      limits,
    };
    const total = plannedCount(spec) * (n - a.down);
    if (total > BOUNDS.totalMessages) {
      throw new UsageError(
        `that is ${total} messages in one run; at most ${BOUNDS.totalMessages} (lower --count, --rate or --duration)`,
      );
    }
    return spec;
  });
  return {
    specs:
      a.keys === true
        ? specs.flatMap((s) => [s, { ...s, key: randomBytes(32).toString("base64") }])
        : specs,
    suite: a.suite as SuiteName | undefined,
    memoryDuration: a.duration ?? 60,
    scaleNodes,
  };
}

export const benchCommand: CommandModule = {
  command: "bench",
  describe: "benchmark: N nodes on loopback, a workload, every delivery verified, a table",
  builder: builder as unknown as CommandModule["builder"],
  handler: async (argv: ArgumentsCamelCase) => {
    const a = argv as unknown as BenchArgs;
    if (a.from !== undefined) {
      if (a.plot === undefined)
        throw new UsageError("--from needs --plot FILE (where to write the charts)");
      const { plotSaved } = await import("../bench/plot.js");
      plotSaved(a.from, a.plot);
      return;
    }
    const plan = parseBenchArgs(a);
    // Loaded only for `rmchat bench`: the chat starts without the benchmark's modules.
    const { runBench } = await import("../bench/run.js");
    process.exitCode = await runBench(a, plan);
  },
};
