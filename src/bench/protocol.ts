import type { HistogramData } from "./histogram.js";
import type { WorkloadSpec } from "./workloads.js";

/** What a benchmark node reports at the end of a run. */
export interface NodeResult {
  id: number;
  /** Messages rmchat accepted from this node's sender. */
  sent: number;
  /** Sends refused (backlog full). */
  refused: number;
  delivered: number;
  /** Per sender: messages delivered here (= last seq, deliveries being checked contiguous). */
  perSender: number[];
  /** Monotonic ms (system-wide clock) of the first and last delivery of a remote message. */
  firstDeliveryAt: number;
  lastDeliveryAt: number;
  /** When this node finished handing its messages to rmchat. */
  sendDoneAt: number;
  /** One-way latency of remote deliveries: send call to delivery event, ms. */
  latency: HistogramData;
  violations: number;
  violationSamples: string[];
  chainInversions: number;
  orderHash: string;
  datagramsSent: number;
  datagramsReceived: number;
  bytesSent: number;
  retransmissions: number;
  fastRetransmissions: number;
  duplicates: number;
  faultDrops: number;
  /** Data entries the dropped datagrams carried. */
  faultDroppedEntries: number;
  sendErrors: number;
  /** Protocol drops (decode errors etc.), by reason. */
  dropped: Record<string, number>;
  /** Buffered state when the result was taken. */
  unacked: number;
  outOfOrder: number;
  heldBack: number;
  /** CPU used by this process between the start instant and the result, µs. */
  cpuUserUs: number;
  cpuSystemUs: number;
  /** Peak RSS of the process, KiB (getrusage). */
  maxRssKb: number;
  /** RSS and heap samples about once a second: [seconds since start, rss bytes, heap used bytes]. */
  memory: Array<[number, number, number]>;
  /** Several nodes shared this process (in-process mode): CPU and RSS are the process's. */
  sharedProcess: boolean;
  /** Terms in which this node saw a leader elected after the start instant (at most 1000). */
  leaderTerms: number[];
  /** Times this node saw the leader lost (no leader) after the start instant. */
  leaderLost: number;
  /** "dead" verdicts (health change to dead) after the start instant about peers that were up. */
  falseDead: number;
  /** All "dead" verdicts after the start instant (about down nodes too). */
  deadVerdicts: number;
  /** Times this node started over as a new member (rejoin) after the start instant. */
  rejoins: number;
  /** Monotonic ms of this node's first "dead" verdict about each down node (none: absent). */
  downDeadAt: number[];
}

/**
 * Coordinator to worker. A worker process lives through several runs (a warm-up run, then
 * the measured ones): `init` starts a fresh node for run `run`, `reset` closes it, `stop` ends
 * the process.
 */
export type ToWorker =
  | {
      t: "init";
      run: number;
      id: number;
      spec: WorkloadSpec;
      ports: number[];
      sharedProcess?: boolean;
      /** Where the nodes persist term and vote (a temporary directory of this benchmark). */
      stateDir?: string;
    }
  | { t: "go"; at: number }
  | { t: "expect"; counts: number[] }
  | { t: "collect" }
  | { t: "reset"; run: number }
  | { t: "stop" }
  | { t: "baseline"; role: BaselineRole; port: number; size: number; durationMs: number };

export type BaselineRole = "echo" | "ping" | "sink" | "flood";

export type FromWorker =
  | { t: "ready"; id: number }
  | { t: "error"; id: number; msg: string; retryable: boolean }
  | { t: "progress"; id: number; delivered: number; sent: number }
  | { t: "sent"; id: number; count: number }
  | { t: "done"; id: number }
  | { t: "result"; result: NodeResult }
  | { t: "reset-done" }
  | { t: "baseline-ready"; port: number }
  | { t: "baseline-result"; values: number[]; count: number; elapsedMs: number };

/** Worker to coordinator, tagged with the run it belongs to (late messages of a run are ignored). */
export type WorkerMsg = FromWorker & { run: number };
