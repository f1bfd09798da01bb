import { cpus, loadavg, release, totalmem } from "node:os";
import type { Baseline } from "./baseline.js";
import { type EdgeResult, formatEdges } from "./edges.js";
import type { ProfileSummary } from "./profile.js";
import type { SimSpeed } from "./sim-speed.js";
import type { Aggregate } from "./stats.js";
import type { TargetCheck } from "./suite.js";
import { describe } from "./workloads.js";

export interface Machine {
  cpu: string;
  cores: number;
  memoryGb: number;
  kernel: string;
  node: string;
  /** 1-minute load average when the benchmark started (other work on the machine skews it). */
  loadAtStart: number;
}

export function machine(): Machine {
  const c = cpus();
  return {
    cpu: c[0]?.model.trim() ?? "unknown",
    cores: c.length,
    memoryGb: Math.round(totalmem() / 1024 ** 3),
    kernel: `${process.platform} ${release()}`,
    node: process.version,
    loadAtStart: loadavg()[0] ?? 0,
  };
}

export interface Report {
  machine: Machine;
  command: string;
  baseline: Baseline | undefined;
  rows: Aggregate[];
  targets: TargetCheck[] | undefined;
  /** With --cpu-prof: where the node processes spent their time in the measured runs. */
  profile?: ProfileSummary;
  /** --suite targets: real CLI processes over pipes (rmchat, raw UDP, the original). */
  edges?: EdgeResult[];
  /** --suite targets: the fuzz campaign's speed per mode. */
  sim?: SimSpeed[];
}

const fmt = (x: number | undefined, digits = 0): string =>
  x === undefined || Number.isNaN(x) ? "—" : x.toFixed(digits);

const rate = (x: number): string => {
  if (Number.isNaN(x)) return "—";
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)}M`;
  if (x >= 1e4) return `${(x / 1e3).toFixed(1)}k`;
  return x.toFixed(0);
};

const ms = (x: number): string => {
  if (Number.isNaN(x)) return "—";
  if (x < 1) return x.toFixed(3);
  if (x < 100) return x.toFixed(1);
  return x.toFixed(0);
};

function table(head: string[], rows: string[][], rightFrom = 1): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i >= rightFrom ? c.padStart(w[i] as number) : c.padEnd(w[i] as number)))
      .join("  ")
      .trimEnd();
  return [line(head), line(w.map((n) => "-".repeat(n))), ...rows.map(line)].join("\n");
}

/** The "ok" cell: yes, timed out (deadline passed), skipped, INCOMPLETE (a node died) or FAILED (a check). */
export function okCell(x: Aggregate["median"]): string {
  if (!x.verified) return "FAILED";
  if (x.complete) return "yes";
  if (x.skipped) return "skipped";
  return x.timedOut ? "timed out" : "INCOMPLETE";
}

/** The human table: one row per workload (medians over runs), then problems and targets. */
export function formatReport(r: Report): string {
  const out: string[] = [];
  const m = r.machine;
  out.push(
    `machine: ${m.cores} × ${m.cpu}, ${m.memoryGb} GB, ${m.kernel}, node ${m.node}; ` +
      `load average ${m.loadAtStart.toFixed(2)} at start`,
  );
  const b = r.baseline;
  if (b) {
    out.push(
      `raw UDP (same run): ping-pong RTT p50 ${fmt(b.rttP50Us)} µs, p99 ${fmt(b.rttP99Us)} µs; ` +
        `flood ${rate(b.floodDatagramsPerSec)} datagrams/s of ${b.size} B, ` +
        `${rate(b.floodPackedMsgsPerSec)} msgs/s packed 10 per datagram`,
    );
  }
  if (r.rows.length > 0) out.push("", ...rowTable(r));
  if (r.edges) out.push("", ...formatEdges(r.edges, { nodes: 4, burstCount: 200, burstDrop: 0.1 }));
  if (r.sim) {
    out.push(
      "",
      `simulator (fuzz campaign, same seed, one worker): ${r.sim.map((x) => `${x.mode} ${x.error ?? `${x.runsPerSec.toFixed(1)} runs/s`}`).join(", ")}`,
    );
  }
  if (r.targets) {
    out.push("", "targets:");
    for (const t of r.targets) {
      const id = t.id !== undefined ? `${t.id}. ` : "";
      out.push(`  ${t.met ? "met   " : "MISSED"}  ${id}${t.target}: ${t.measured}`);
    }
  }
  if (r.rows.length > 0) {
    out.push(
      "",
      "msg/s/node: deliveries per second at the slowest node; group/s: all nodes' deliveries per second; %raw: of the raw packed flood; " +
        "latency: one-way, send call to delivery, remote deliveries; ×rtt: p50 over raw RTT p50; " +
        "B/msg: all UDP payload bytes per message multicast (every copy, acks, retransmissions); " +
        "µs/dlv: CPU µs of all node processes per delivery; rtx/lost: messages resent per message " +
        "lost (carried by a datagram the fault layer dropped); leader±: elections after the start instant (worst run); " +
        "false dead: dead verdicts about live nodes (worst run); kdrop: datagrams the kernel dropped for a full socket receive buffer during the run, system-wide (worst run).",
    );
  }
  return out.join("\n");
}

/** The workload rows (medians over runs), then memory, sealed cost and problems. */
function rowTable(r: Report): string[] {
  const out: string[] = [];
  const b = r.baseline;
  const head = [
    "workload",
    "runs",
    "ok",
    "done s",
    "msg/s/node",
    "group/s",
    "%raw",
    "p50 ms",
    "p90",
    "p99",
    "max",
    "×rtt",
    "retrans",
    "dgram/msg",
    "B/msg",
    "B/copy",
    "CPU%",
    "µs/dlv",
    "rtx/lost",
    "leader±",
    "false dead",
    "kdrop",
    "RSS MB",
  ];
  const rows = r.rows.map((a) => {
    const x = a.median;
    const pctRaw =
      b && b.floodPackedMsgsPerSec > 0
        ? (100 * x.throughputPerNode) / b.floodPackedMsgsPerSec
        : Number.NaN;
    const xRtt = b && b.rttP50Us > 0 ? x.latency.p50 / (b.rttP50Us / 1000) : Number.NaN;
    return [
      describe(a.spec),
      String(a.runs),
      okCell(x),
      fmt(x.completionMs / 1000, 3),
      rate(x.throughputPerNode),
      rate(x.groupPerSec),
      fmt(pctRaw, 1),
      ms(x.latency.p50),
      ms(x.latency.p90),
      ms(x.latency.p99),
      ms(x.latency.max),
      fmt(xRtt, 1),
      fmt(x.retransmissions),
      fmt(x.datagramsPerMsg, 2),
      fmt(x.bytesPerMsg),
      fmt(x.bytesPerCopy),
      fmt(x.cpuPct),
      fmt(x.cpuUsPerDelivery, 1),
      a.spec.drop > 0 ? fmt(x.resendsPerLost, 2) : "—",
      String(x.leaderChanges),
      String(x.falseDead),
      fmt(x.kernelDrops),
      fmt(x.peakRssMb),
    ];
  });
  out.push(table(head, rows));
  // Memory is judged on long runs only (the suite's 60 s rows); shorter ones are noise.
  const mem = r.rows.filter((a) => a.median.rssGrowthPct !== undefined && runSeconds(a) >= 20);
  if (mem.length > 0) {
    out.push("");
    for (const a of mem) {
      const x = a.median;
      const g = x.rssGrowthPct ?? Number.NaN;
      out.push(
        `memory, ${describe(a.spec)}: RSS ${fmt(x.rssBaseMb, 1)} MB after warm-up, ` +
          `highest later ${fmt(x.rssHighMb, 1)} MB (${g >= 0 ? "+" : ""}${fmt(g, 1)}%); ` +
          `${fmt(x.sent)} sent, ${fmt(x.refused)} refused (backlog full)`,
      );
    }
  }
  const sealed = sealedCost(r.rows);
  if (sealed.length > 0) out.push("", ...sealed);
  const problems = r.rows.flatMap((a) => a.problems.map((p) => `${describe(a.spec)}: ${p}`));
  if (problems.length > 0) {
    out.push("", "problems:");
    for (const p of problems.slice(0, 40)) out.push(`  ${p}`);
    if (problems.length > 40) out.push(`  … ${problems.length - 40} more`);
  }
  return out;
}

/** With --keys: each sealed row's throughput and latency against its plain twin. */
export function sealedCost(rows: Aggregate[]): string[] {
  const out: string[] = [];
  for (const s of rows) {
    if (!s.spec.key) continue;
    const p = rows.find(
      (x) => !x.spec.key && describe(x.spec) === describe({ ...s.spec, key: undefined }),
    );
    if (!p) continue;
    const pct = (100 * s.median.throughputPerNode) / p.median.throughputPerNode;
    out.push(
      `sealed vs plain, ${describe(p.spec)}: ${rate(s.median.throughputPerNode)} vs ${rate(p.median.throughputPerNode)} msg/s/node = ${fmt(pct, 1)}% ` +
        `(target >= 70%: ${pct >= 70 ? "met" : "NOT MET"}); p50 latency ${ms(s.median.latency.p50)} vs ${ms(p.median.latency.p50)} ms; ` +
        `CPU ${fmt(s.median.cpuPct)}% vs ${fmt(p.median.cpuPct)}%`,
    );
  }
  return out;
}

function runSeconds(a: Aggregate): number {
  return a.spec.workload === "paced" ? a.spec.duration : a.median.completionMs / 1000;
}

export function jsonReport(r: Report): string {
  return JSON.stringify(r, (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? null : v), 2);
}
