import { performance } from "node:perf_hooks";
import type { DropReason, NodeStats, NodeStatus } from "../core/node-types.js";
import type { NodeId } from "../core/types.js";
import { TRUST_DROPS, type TrustDrop } from "./trust.js";

/** One metric family in the Prometheus text format (version 0.0.4). */
export interface MetricFamily {
  name: string;
  help: string;
  type: "counter" | "gauge";
  samples: Array<{ labels?: Record<string, string>; value: number }>;
}

export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/**
 * Every drop reason, the core's and the trust layer's (src/runtime/trust.ts), so a scrape
 * shows each one (at 0) before it first happens.
 */
export const DROP_REASONS: readonly (DropReason | TrustDrop)[] = [
  "undecodable",
  "not-a-frame",
  "bad-version",
  "bad-header",
  "bad-ack",
  "bad-data",
  "bad-ctrl",
  "too-large",
  "wrong-source",
  "misdirected",
  "stale-incarnation",
  "bad-message",
  "protocol-error",
  ...TRUST_DROPS,
];

const HEALTH_STATES = ["alive", "suspect", "dead", "unknown"] as const;

function labelValue(v: string): string {
  return v.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

function num(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Number.POSITIVE_INFINITY) return "+Inf";
  if (v === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(v);
}

/** The exposition text: `# HELP`, `# TYPE`, then one line per sample. */
export function renderMetrics(families: readonly MetricFamily[]): string {
  const out: string[] = [];
  for (const f of families) {
    out.push(`# HELP ${f.name} ${f.help.replaceAll("\\", "\\\\").replaceAll("\n", "\\n")}`);
    out.push(`# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) {
      const labels = Object.entries(s.labels ?? {});
      const l =
        labels.length === 0
          ? ""
          : `{${labels.map(([k, v]) => `${k}="${labelValue(v)}"`).join(",")}}`;
      out.push(`${f.name}${l} ${num(s.value)}`);
    }
  }
  return `${out.join("\n")}\n`;
}

const counter = (name: string, help: string, value: number): MetricFamily => ({
  name,
  help,
  type: "counter",
  samples: [{ value }],
});
const gauge = (name: string, help: string, value: number): MetricFamily => ({
  name,
  help,
  type: "gauge",
  samples: [{ value }],
});

/** What the metrics read from a running node (UdpRuntime provides all of it). */
export interface MetricsSource {
  id: NodeId;
  ordering: string;
  incarnation: number;
  /** The node's statistics; `dropped` may hold the trust layer's reasons too. */
  stats(): Omit<NodeStats, "dropped"> & { dropped: Partial<Record<string, number>> };
  status(): NodeStatus;
  sendErrors: number;
}

/** The node's counters and gauges, read from RmNode.stats() and status() at scrape time. */
export function nodeMetrics(src: MetricsSource, version: string): MetricFamily[] {
  const st = src.stats();
  const status = src.status();
  const isLeader = status.role === "leader";
  const byHealth = new Map<string, number>(HEALTH_STATES.map((h) => [h, 0]));
  for (const p of st.peers) byHealth.set(p.health, (byHealth.get(p.health) ?? 0) + 1);
  const reasons = [
    ...DROP_REASONS,
    ...Object.keys(st.dropped).filter((r) => !(DROP_REASONS as readonly string[]).includes(r)),
  ];
  const perPeer = (
    name: string,
    help: string,
    value: (p: NodeStats["peers"][number]) => number | undefined,
  ): MetricFamily => ({
    name,
    help,
    type: "gauge",
    samples: st.peers.flatMap((p) => {
      const v = value(p);
      return v === undefined ? [] : [{ labels: { peer: String(p.id) }, value: v }];
    }),
  });
  return [
    {
      name: "rmchat_info",
      help: "Constant 1; the labels say which node this is.",
      type: "gauge",
      samples: [{ labels: { node: String(src.id), ordering: src.ordering, version }, value: 1 }],
    },
    gauge(
      "rmchat_incarnation",
      "This process's incarnation (ms since the epoch at start).",
      src.incarnation,
    ),
    counter("rmchat_datagrams_sent_total", "Datagrams handed to the socket.", st.datagramsSent),
    counter("rmchat_datagrams_received_total", "Datagrams received.", st.datagramsReceived),
    counter("rmchat_bytes_sent_total", "Bytes of datagrams sent.", st.bytesSent),
    counter("rmchat_bytes_received_total", "Bytes of datagrams received.", st.bytesReceived),
    counter("rmchat_messages_sent_total", "Messages this node multicast.", st.messagesSent),
    counter("rmchat_deliveries_total", "Messages delivered here, own ones included.", st.delivered),
    counter(
      "rmchat_retransmissions_total",
      "Fragments sent again (timeout and fast retransmissions).",
      st.retransmissions,
    ),
    counter(
      "rmchat_fast_retransmissions_total",
      "Fragments sent again on selective-ack evidence, before their timeout.",
      st.fastRetransmissions,
    ),
    counter("rmchat_duplicates_total", "Duplicate fragments received and ignored.", st.duplicates),
    {
      name: "rmchat_dropped_datagrams_total",
      help: "Datagrams dropped on receipt, by reason.",
      type: "counter",
      samples: reasons.map((reason) => ({
        labels: { reason },
        value: st.dropped[reason] ?? 0,
      })),
    },
    counter("rmchat_send_errors_total", "Socket send calls that failed.", src.sendErrors),
    gauge(
      "rmchat_held_back_messages",
      "Messages received but waiting for their order.",
      st.heldBack,
    ),
    gauge(
      "rmchat_unacked_fragments",
      "Fragments sent or queued and not yet acknowledged, all peers.",
      st.unacked,
    ),
    {
      name: "rmchat_peers",
      help: "Configured peers by failure-detector state.",
      type: "gauge",
      samples: [...byHealth].map(([state, value]) => ({ labels: { state }, value })),
    },
    gauge("rmchat_term", "Current election term.", status.term),
    gauge("rmchat_is_leader", "1 while this node is the elected leader.", isLeader ? 1 : 0),
    gauge(
      "rmchat_lease_held",
      "1 while this node leads and holds its lease.",
      isLeader && status.leaseUntil > performance.now() ? 1 : 0,
    ),
    gauge(
      "rmchat_leader_id",
      "The leader this node knows, -1 while there is none.",
      status.leader ?? -1,
    ),
    gauge("rmchat_view_term", "Term of the installed view.", status.view.term),
    gauge(
      "rmchat_view_version",
      "Version of the installed view within its term.",
      status.view.version,
    ),
    gauge("rmchat_view_members", "Members of the installed view.", status.view.members.length),
    perPeer("rmchat_peer_up", "1 while the peer is alive or suspect.", (p) => (p.up ? 1 : 0)),
    perPeer(
      "rmchat_peer_rtt_seconds",
      "Smoothed round-trip time to the peer (once measured).",
      (p) => (p.srttMs === undefined ? undefined : p.srttMs / 1000),
    ),
    perPeer(
      "rmchat_peer_rto_seconds",
      "Current retransmission timeout towards the peer.",
      (p) => p.rtoMs / 1000,
    ),
    perPeer(
      "rmchat_peer_unacked_fragments",
      "Fragments queued for the peer (in flight and waiting).",
      (p) => p.queued,
    ),
    perPeer(
      "rmchat_peer_in_flight_fragments",
      "Fragments sent to the peer and not yet acknowledged.",
      (p) => p.inFlight,
    ),
    gauge(
      "process_start_time_seconds",
      "Start time of the process since the epoch, in seconds.",
      Math.round(Date.now() - process.uptime() * 1000) / 1000,
    ),
    gauge(
      "process_resident_memory_bytes",
      "Resident memory size in bytes.",
      process.memoryUsage.rss(),
    ),
  ];
}

/** `/health`: healthy while this node is in an installed view that has a leader. */
export function health(src: Pick<MetricsSource, "id" | "status">): { ok: boolean; reason: string } {
  const st = src.status();
  const v = st.view;
  const viewName = `view ${v.term}.${v.version}`;
  if (!v.members.includes(src.id)) {
    return {
      ok: false,
      reason:
        v.members.length === 0
          ? `no view installed yet (term ${st.term})`
          : `not a member of ${viewName} [${v.members.join(",")}]`,
    };
  }
  if (st.leader === undefined)
    return { ok: false, reason: `no leader (term ${st.term}, ${viewName})` };
  return { ok: true, reason: `ok: leader node ${st.leader}, term ${st.term}, ${viewName}` };
}
