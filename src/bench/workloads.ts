import type { Ordering, ProtocolLimits } from "../core/types.js";

/**
 * - burst: every node hands `count` messages to rmchat as fast as it accepts them.
 * - paced: every node sends `rate` messages per second for `duration` seconds (senders staggered).
 * - chain: a causal chain; node i sends its next message when it delivers the previous link from
 *   node i-1, so every message causally follows the one before it (N × count links in all).
 */
export type WorkloadKind = "burst" | "paced" | "chain";
export const WORKLOADS: readonly WorkloadKind[] = ["burst", "paced", "chain"];

export interface WorkloadSpec {
  workload: WorkloadKind;
  nodes: number;
  /** burst, chain: messages sent per node. */
  count: number;
  /** paced: messages per second per node. */
  rate: number;
  /** paced: seconds of sending. */
  duration: number;
  ordering: Ordering;
  /** Mean one-way delay added to every datagram, seconds (the chat's `delay`). */
  delay: number;
  /** Probability an outgoing datagram is dropped (the chat's `drop`). */
  drop: number;
  /** Bytes per message (UTF-8 text, ASCII here). */
  size: number;
  /** Nodes (the highest ids) killed with SIGKILL at the start instant, to measure a dead member's cost. */
  down: number;
  /** Warm the JIT in memory before a node starts (see warmup.ts); set with warm-up runs. */
  warmup: boolean;
  limits: ProtocolLimits;
  /** A key (base64) every node of the run seals its datagrams with; none: not sealed. */
  key?: string;
}

/** Limits that keep a benchmark bounded in time and traffic. */
export const BOUNDS = {
  nodes: [2, 32],
  count: [1, 1_000_000],
  rate: [1, 1_000_000],
  duration: [0.1, 600],
  size: [32, 65536],
  runs: [1, 50],
  warmupRuns: [0, 20],
  timeout: [1, 3600],
  /** Messages in one run, all senders together. */
  totalMessages: 4_000_000,
} as const;

/** Messages node `id` will try to send in this workload. */
export function plannedCount(spec: WorkloadSpec): number {
  if (spec.workload === "paced") return Math.max(1, Math.round(spec.rate * spec.duration));
  return spec.count;
}

/** Deliveries per node process in each of the default warm-up runs (at any group size). */
export const WARMUP_DELIVERIES_PER_PROCESS = 20_000;

/**
 * The warm-up runs before a workload's measured ones: `runs` bursts of the same shape (N,
 * ordering, size) and the same loss, which together give every node process about
 * `WARMUP_DELIVERIES_PER_PROCESS` deliveries per asked run (`asked`: --warmup-runs) whatever
 * N: per asked run 5000 messages per node at 4 nodes, 1250 at 16, 625 at 32 (50 to 5000 in a
 * run). Above 8 nodes they come in one run as long as the asked ones together (setting up a
 * large group on a small machine costs more than the run). Until 2026-12-03 a run was about
 * 80,000 deliveries in all, so a process at 16 nodes got a quarter of a 4-node one's warm-up
 * (a sixteenth, with one run instead of three): the scale rows compared unequally warm
 * processes.
 *
 * The loss is kept so that the repair paths (frames out of order, gaps, resends) are compiled
 * too: warmed on clean bursts only, a 4×200 burst at drop 0.1 ran those paths in V8's
 * interpreter and took 2.5× its drop-0 time, against 1.0–1.1× warm (causal, the same hour,
 * 2026-12-03). No delay (it only adds waiting) and nobody down.
 */
export function warmupPlan(
  spec: WorkloadSpec,
  asked: number,
): { runs: number; spec: WorkloadSpec } {
  const runs = spec.nodes > 8 ? Math.min(1, asked) : asked;
  const perRun = (WARMUP_DELIVERIES_PER_PROCESS * asked) / Math.max(1, runs);
  const count = Math.max(50, Math.min(5000, Math.ceil(perRun / spec.nodes)));
  return { runs, spec: { ...spec, workload: "burst", count, delay: 0, down: 0 } };
}

export function describe(spec: WorkloadSpec): string {
  const base =
    spec.workload === "paced"
      ? `paced ${spec.nodes}×${spec.rate}/s×${spec.duration}s`
      : `${spec.workload} ${spec.nodes}×${spec.count}`;
  const faults = `${spec.delay > 0 ? ` delay ${spec.delay}` : ""} drop ${spec.drop}`;
  const down = spec.down > 0 ? `, ${spec.down} down` : "";
  return `${base} ${spec.ordering}${faults}, ${spec.size} B${down}${spec.key ? ", sealed" : ""}`;
}

const PAD = ".".repeat(BOUNDS.size[1]);

/**
 * Message text: `<from>:<seq>:<sendTimeµs>:<hop>:` padded with dots to `size` bytes. The
 * receiver checks sender and seq against the delivery (integrity) and takes the send time
 * (system-wide monotonic clock, whole microseconds) for the latency.
 */
export function makeText(from: number, seq: number, sentAt: number, hop: number, size: number) {
  const head = `${from}:${seq}:${Math.round(sentAt * 1000)}:${hop}:`;
  return head.length >= size ? head : head + PAD.slice(0, size - head.length);
}

export interface ParsedText {
  from: number;
  seq: number;
  /** ms */
  sentAt: number;
  hop: number;
}

/** Parse into `out` without allocating; false when the text is not one of ours. */
export function parseText(text: string, out: ParsedText): boolean {
  const len = text.length;
  let i = 0;
  let field = 0;
  let v = 0;
  let digits = 0;
  for (; i < len && field < 4; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      v = v * 10 + (c - 48);
      digits++;
    } else if (c === 58 && digits > 0) {
      if (field === 0) out.from = v;
      else if (field === 1) out.seq = v;
      else if (field === 2) out.sentAt = v / 1000;
      else out.hop = v;
      field++;
      v = 0;
      digits = 0;
    } else return false;
  }
  if (field < 4) return false;
  for (; i < len; i++) if (text.charCodeAt(i) !== 46) return false;
  return true;
}
