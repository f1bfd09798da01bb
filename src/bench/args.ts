import { existsSync } from "node:fs";
import { join } from "node:path";
import type { WorkloadSpec } from "./workloads.js";

/** What `rmchat bench` was asked for (its flags, parsed by src/cli/bench-command.ts). */
export interface BenchArgs {
  workload: string;
  nodes: string;
  count: number;
  rate: number;
  duration?: number | undefined;
  ordering: string;
  delay: number;
  drop: number;
  size: number;
  down: number;
  runs: number;
  timeout: number;
  suite?: string | undefined;
  config?: string | undefined;
  inProcess: boolean;
  baseline: boolean;
  warmupRuns: number;
  json: boolean;
  save?: string | undefined;
  /** Write the report's charts to this HTML file. */
  plot?: string | undefined;
  /** With `plot`: chart a report saved with --save instead of running. */
  from?: string | undefined;
  quiet: boolean;
  cpuProf?: string | undefined;
  /** Seal the cluster under a fresh random key (measures the trust layer's cost). */
  keys?: boolean | undefined;
  /** --suite targets|edges: drive the Python original in this directory too. */
  python?: string | undefined;
  /** --suite targets|edges: lone messages over the CLI (0: no edges). */
  lone: number;
  /** --suite targets|edges: seconds of idle CPU measurement. */
  idle: number;
  /** --suite targets|edges: seconds of paced lines over the CLI. */
  cliDuration: number;
  /** --suite targets: fuzz scenarios per mode for the simulator's speed (0: skip). */
  simRuns: number;
  /** --suite targets|scale: node counts of the scale rows. */
  scaleNodes?: string | undefined;
}

/** The validated flags: one workload spec per node count. */
export interface BenchPlan {
  specs: WorkloadSpec[];
  suite: SuiteName | undefined;
  memoryDuration: number;
  scaleNodes: number[] | undefined;
}

/** Named sets of workloads (`--suite`). Here, not in suite.ts: the CLI loads this module at start. */
export type SuiteName = "targets" | "scale" | "edges";
export const SUITES: readonly SuiteName[] = ["targets", "scale", "edges"];

/** The checks `--python DIR` needs before anything runs; an error line, or undefined. */
export function checkPythonDir(dir: string): string | undefined {
  for (const f of ["bin/reliable_multicast_chat", "reliable_multicast_chat/chat_process.py"]) {
    if (!existsSync(join(dir, f))) {
      return `--python ${dir}: not a reliable-multicast-chat checkout (${f} is missing)`;
    }
  }
  return undefined;
}
