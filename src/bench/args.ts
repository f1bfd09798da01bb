import type { SuiteName } from "./suite.js";
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
}

/** The validated flags: one workload spec per node count. */
export interface BenchPlan {
  specs: WorkloadSpec[];
  suite: SuiteName | undefined;
  memoryDuration: number;
}
