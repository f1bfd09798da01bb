import type { RunResult } from "./coordinator.js";
import { Histogram } from "./histogram.js";
import type { WorkloadSpec } from "./workloads.js";

export interface RunMetrics {
  complete: boolean;
  verified: boolean;
  /** Start instant to the last delivery anywhere, ms. */
  completionMs: number;
  /** Deliveries per second at the slowest node (own messages included), start to its last delivery. */
  throughputPerNode: number;
  /** Deliveries of all live nodes together per second, start instant to the last delivery. */
  groupPerSec: number;
  /** One-way latency of remote deliveries (send call to delivery event), ms. */
  latency: { p50: number; p90: number; p99: number; max: number; count: number };
  /** Resends by the retransmission timer and the tail-loss probe (not fast retransmit). */
  retransmissions: number;
  /** All datagrams (data, acks, retransmissions) per message multicast. */
  datagramsPerMsg: number;
  /** All UDP payload bytes per message multicast (every copy, acks, retransmissions). */
  bytesPerMsg: number;
  /** The same per copy (bytesPerMsg / (N - 1)): message size plus protocol overhead. */
  bytesPerCopy: number;
  /** CPU per node, % of one core, start instant to result (mean over nodes). */
  cpuPct: number;
  /** CPU µs spent by all nodes per message delivered anywhere. */
  cpuUsPerDelivery: number;
  peakRssMb: number;
  /** RSS after warm-up and at its highest later, MiB, and the growth between them (runs of ≥ 10 s). */
  rssBaseMb: number | undefined;
  rssHighMb: number | undefined;
  rssGrowthPct: number | undefined;
  sent: number;
  refused: number;
  delivered: number;
  /** Not complete because the run's deadline passed (not because a node died). */
  timedOut: boolean;
  /** Not run (a smaller group of the same kind timed out). */
  skipped: boolean;
  /** Messages resent (timer, tail probe and fast retransmit), all nodes. */
  resends: number;
  /** Datagrams the fault layer dropped (the simulated `drop`), all nodes. */
  faultDrops: number;
  /** Data entries (messages) those datagrams carried: what the loss took away. */
  lostEntries: number;
  /** resends / lostEntries: 1 = each lost message resent once; NaN when nothing was lost. */
  resendsPerLost: number;
  /** Elections won after the start instant: distinct terms with a new leader seen by any node. */
  leaderChanges: number;
  /** "dead" verdicts after the start instant about nodes that were in fact up, all nodes. */
  falseDead: number;
  /** Datagrams the kernel dropped for full receive buffers during the run (system-wide). */
  kernelDrops: number;
  /** Down nodes: kill to the last live node's first "dead" verdict about them, ms (NaN: none). */
  detectMs: number;
  /** Highest RSS sampled during the run (about once a second) at any live node, MiB. */
  runPeakRssMb: number;
}

const median = (xs: number[]): number => {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

/** Memory runs: compare RSS after a warm-up with its highest value later. */
const MIN_MEMORY_RUN_S = 10;

export function runMetrics(r: RunResult): RunMetrics {
  const nodes = r.nodes;
  const hist = new Histogram();
  let last = 0;
  let minRate = Number.POSITIVE_INFINITY;
  let retrans = 0;
  let dgrams = 0;
  let bytes = 0;
  let sent = 0;
  let refused = 0;
  let delivered = 0;
  let cpu = 0;
  let peak = 0;
  let resends = 0;
  let faultDrops = 0;
  let lostEntries = 0;
  let falseDead = 0;
  let runPeak = 0;
  const terms = new Set<number>();
  for (const n of nodes) {
    // The node's `retransmissions` counts every resend, fast retransmissions included.
    resends += n.retransmissions;
    faultDrops += n.faultDrops;
    lostEntries += n.faultDroppedEntries;
    falseDead += n.falseDead;
    for (const t of n.leaderTerms) terms.add(t);
    for (const [, rss] of n.memory) runPeak = Math.max(runPeak, rss / (1024 * 1024));
    hist.merge(n.latency);
    if (n.lastDeliveryAt > last) last = n.lastDeliveryAt;
    const span = (n.lastDeliveryAt - r.goAt) / 1000;
    if (span > 0) minRate = Math.min(minRate, n.delivered / span);
    retrans += n.retransmissions - n.fastRetransmissions;
    dgrams += n.datagramsSent;
    bytes += n.bytesSent;
    sent += n.sent;
    refused += n.refused;
    delivered += n.delivered;
    cpu += n.cpuUserUs + n.cpuSystemUs;
    peak = Math.max(peak, n.maxRssKb / 1024);
  }
  // In-process nodes share one process: count its CPU once.
  if (nodes[0]?.sharedProcess) cpu /= nodes.length;
  const copies = Math.max(1, r.spec.nodes - 1);
  const mem = memoryGrowth(r);
  const q = (p: number) => hist.quantile(p) ?? Number.NaN;
  return {
    complete: r.complete,
    verified: r.verified,
    completionMs: last > 0 ? last - r.goAt : Number.NaN,
    throughputPerNode: Number.isFinite(minRate) ? minRate : nodes.length > 0 ? 0 : Number.NaN,
    groupPerSec: last > r.goAt ? delivered / ((last - r.goAt) / 1000) : Number.NaN,
    latency: { p50: q(0.5), p90: q(0.9), p99: q(0.99), max: q(1), count: hist.count },
    retransmissions: retrans,
    datagramsPerMsg: sent > 0 ? dgrams / sent : Number.NaN,
    bytesPerMsg: sent > 0 ? bytes / sent : Number.NaN,
    bytesPerCopy: sent > 0 ? bytes / sent / copies : Number.NaN,
    cpuPct: nodes.length > 0 ? (100 * cpu) / 1000 / r.wallMs / nodes.length : Number.NaN,
    cpuUsPerDelivery: delivered > 0 ? cpu / delivered : Number.NaN,
    peakRssMb: nodes.length > 0 ? peak : Number.NaN,
    ...mem,
    sent,
    refused,
    delivered,
    timedOut: r.timedOut,
    skipped: r.skipped === true,
    resends,
    faultDrops,
    lostEntries,
    resendsPerLost: lostEntries > 0 ? resends / lostEntries : Number.NaN,
    leaderChanges: terms.size,
    falseDead,
    kernelDrops: r.kernelDrops,
    runPeakRssMb: runPeak > 0 ? runPeak : Number.NaN,
    detectMs: detectMs(r),
  };
}

function detectMs(r: RunResult): number {
  if (r.spec.down === 0 || r.killAt === 0 || r.nodes.length === 0) return Number.NaN;
  let worst = 0;
  for (const n of r.nodes) {
    // Every live node must have declared every down node dead.
    if (n.downDeadAt.length < r.spec.down) return Number.POSITIVE_INFINITY;
    for (const t of n.downDeadAt) worst = Math.max(worst, t - r.killAt);
  }
  return worst;
}

function memoryGrowth(r: RunResult): {
  rssBaseMb: number | undefined;
  rssHighMb: number | undefined;
  rssGrowthPct: number | undefined;
} {
  const seconds = r.wallMs / 1000;
  if (seconds < MIN_MEMORY_RUN_S) {
    return { rssBaseMb: undefined, rssHighMb: undefined, rssGrowthPct: undefined };
  }
  // Warm-up: the first sixth of the run, at most 10 s.
  const warm = Math.min(10, seconds / 6);
  let worst: { base: number; high: number; g: number } | undefined;
  for (const n of r.nodes) {
    const after = n.memory.filter(([t]) => t >= warm);
    if (after.length < 2) continue;
    const base = (after[0] as [number, number, number])[1];
    const high = Math.max(...after.map(([, rss]) => rss));
    const g = (high - base) / base;
    if (!worst || g > worst.g) worst = { base, high, g };
  }
  if (!worst) return { rssBaseMb: undefined, rssHighMb: undefined, rssGrowthPct: undefined };
  const mb = 1024 * 1024;
  return { rssBaseMb: worst.base / mb, rssHighMb: worst.high / mb, rssGrowthPct: 100 * worst.g };
}

/** Several runs of one workload: the median of every figure, complete/verified only if all were. */
export interface Aggregate {
  spec: WorkloadSpec;
  runs: number;
  median: RunMetrics;
  perRun: RunMetrics[];
  problems: string[];
  /** Latency CDF over all runs' remote deliveries: [ms, fraction ≤ ms] points (`--plot`). */
  latencyCdf: Array<[number, number]>;
}

/** Points of the CDF of a histogram: 100 quantiles, the tail in finer steps, the maximum. */
export function cdfPoints(h: Histogram): Array<[number, number]> {
  if (h.count === 0) return [];
  const qs: number[] = [];
  for (let i = 0; i <= 100; i++) qs.push(i / 100);
  qs.push(0.995, 0.999, 0.9999);
  qs.sort((a, b) => a - b);
  const out: Array<[number, number]> = [];
  for (const q of qs) {
    const v = h.quantile(q);
    if (v === undefined) continue;
    const ms = Math.round(v * 1000) / 1000;
    const last = out[out.length - 1];
    if (last && last[0] === ms) last[1] = q;
    else out.push([ms, q]);
  }
  return out;
}

/** The largest of the known values (NaN: none known). */
function worst(xs: number[]): number {
  const known = xs.filter((x) => !Number.isNaN(x));
  return known.length > 0 ? Math.max(...known) : Number.NaN;
}

export function aggregate(results: RunResult[]): Aggregate {
  const perRun = results.map(runMetrics);
  const spec = (results[0] as RunResult).spec;
  const pick = (f: (m: RunMetrics) => number | undefined): number | undefined => {
    const xs = perRun.map(f).filter((x): x is number => x !== undefined && !Number.isNaN(x));
    return xs.length > 0 ? median(xs) : undefined;
  };
  const num = (f: (m: RunMetrics) => number): number => pick(f) ?? Number.NaN;
  const med: RunMetrics = {
    complete: perRun.every((m) => m.complete),
    verified: perRun.every((m) => m.verified),
    completionMs: num((m) => m.completionMs),
    throughputPerNode: num((m) => m.throughputPerNode),
    groupPerSec: num((m) => m.groupPerSec),
    latency: {
      p50: num((m) => m.latency.p50),
      p90: num((m) => m.latency.p90),
      p99: num((m) => m.latency.p99),
      max: num((m) => m.latency.max),
      count: num((m) => m.latency.count),
    },
    retransmissions: num((m) => m.retransmissions),
    datagramsPerMsg: num((m) => m.datagramsPerMsg),
    bytesPerMsg: num((m) => m.bytesPerMsg),
    bytesPerCopy: num((m) => m.bytesPerCopy),
    cpuPct: num((m) => m.cpuPct),
    cpuUsPerDelivery: num((m) => m.cpuUsPerDelivery),
    peakRssMb: num((m) => m.peakRssMb),
    rssBaseMb: pick((m) => m.rssBaseMb),
    rssHighMb: pick((m) => m.rssHighMb),
    rssGrowthPct: pick((m) => m.rssGrowthPct),
    sent: num((m) => m.sent),
    refused: num((m) => m.refused),
    delivered: num((m) => m.delivered),
    timedOut: perRun.some((m) => m.timedOut),
    skipped: perRun.every((m) => m.skipped),
    resends: num((m) => m.resends),
    faultDrops: num((m) => m.faultDrops),
    lostEntries: num((m) => m.lostEntries),
    resendsPerLost: num((m) => m.resendsPerLost),
    // Membership trouble is counted in the worst run, not the median: one is one too many.
    leaderChanges: Math.max(0, ...perRun.map((m) => m.leaderChanges)),
    falseDead: Math.max(0, ...perRun.map((m) => m.falseDead)),
    kernelDrops: worst(perRun.map((m) => m.kernelDrops)),
    runPeakRssMb: num((m) => m.runPeakRssMb),
    detectMs: num((m) => m.detectMs),
  };
  const problems = results.flatMap((r, i) => r.problems.map((p) => `run ${i + 1}: ${p}`));
  const all = new Histogram();
  for (const r of results) for (const n of r.nodes) all.merge(n.latency);
  return { spec, runs: results.length, median: med, perRun, problems, latencyCdf: cdfPoints(all) };
}
