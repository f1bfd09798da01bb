import type { NodeStats } from "../core/node.js";
import type { HeldMessage } from "../core/order/index.js";
import type { NodeId, Ordering } from "../core/types.js";
import type { Style } from "./colors.js";
import { COMMANDS } from "./commands.js";
import { inert } from "./tui-escape.js";
import { KEYS } from "./tui-keys.js";
import type { Entry } from "./tui-model.js";

/** Pure formatting for the TUI: everything returns blessed markup built from inert text. */

export function clock(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export interface EntryOptions {
  /** Number of peers (hosts − 1): acks are shown as k/peers. */
  peers: number;
  /** Show protocol details (sender#seq, order number, vector clock) on every message. */
  details: boolean;
}

/** One pane line. Own messages: a » mark and their state (sent → delivered, acked k/n). */
export function formatEntry(e: Entry, s: Style, o: EntryOptions): string {
  if (e.kind === "sys") {
    const text = inert(e.text);
    if (e.level === "output") return `  ${text}`;
    const line = `-!- ${text}`;
    const body = e.level === "error" ? s.bad(line) : e.level === "warn" ? s.warn(line) : line;
    return `${s.dim(clock(e.at))} ${body}`;
  }
  const name = `<node ${e.from}>`;
  const who = e.own ? `»${s.bold(s.node(e.from, name))}` : ` ${s.node(e.from, name)}`;
  let line = `${s.dim(clock(e.at))} ${who} ${inert(e.text)}`;
  if (o.details) {
    const d = [`${e.from}#${e.seq}`];
    if (e.order !== undefined) d.push(`order ${e.order}`);
    if (e.vc !== undefined) d.push(`vc [${e.vc.join(",")}]`);
    line += ` ${s.dim(`[${d.join(" ")}]`)}`;
  }
  if (e.history) return s.dim(line);
  if (e.own) {
    const parts = [e.delivered ? "delivered" : "sent"];
    if (o.peers > 0) parts.push(`acked ${Math.min(e.acks, o.peers)}/${o.peers}`);
    const state = `· ${parts.join(", ")}`;
    const done = e.delivered && e.acks >= o.peers;
    line += ` ${done ? s.good(state) : s.dim(state)}`;
  }
  return line;
}

/** [0,1,2,5,7,8] → "0-2,5,7-8". */
export function compressIds(ids: readonly number[]): string {
  const sorted = [...ids].sort((a, b) => a - b);
  const out: string[] = [];
  let i = 0;
  while (i < sorted.length) {
    let j = i;
    while (j + 1 < sorted.length && (sorted[j + 1] as number) === (sorted[j] as number) + 1) j++;
    out.push(j > i ? `${sorted[i]}-${sorted[j]}` : `${sorted[i]}`);
    i = j + 1;
  }
  return out.join(",");
}

/**
 * Who orders messages. Today the total-order sequencer is fixed (node 0); once elections
 * exist the leader (with its term) goes here.
 */
export type LeaderInfo =
  | { kind: "none" }
  | { kind: "sequencer"; id: NodeId; self: boolean; up: boolean }
  | { kind: "leader"; id: NodeId | undefined; term: number; self: boolean };

export function leaderText(l: LeaderInfo): string | undefined {
  switch (l.kind) {
    case "none":
      return undefined;
    case "sequencer":
      if (l.self) return `sequencer: this node (${l.id})`;
      return l.up ? `sequencer: node ${l.id}` : `waiting for sequencer (node ${l.id})`;
    case "leader":
      if (l.id === undefined) return `no leader (term ${l.term})`;
      return `leader: ${l.self ? "this node" : "node"} ${l.id} (term ${l.term})`;
  }
}

export interface TitleInfo {
  id: NodeId;
  address: string;
  ordering: Ordering;
  hosts: number;
  leader: LeaderInfo;
  /** Whether datagrams are sealed (keys configured); undefined: not shown. */
  sealed?: boolean;
}

/** Top bar: who and where this node is, how it orders, who sequences. */
export function titleBar(t: TitleInfo, s: Style): string {
  const parts = [
    `${s.bold("rmchat")} node ${t.id} @ ${inert(t.address)}`,
    `${t.ordering} order`,
    `${t.hosts} node${t.hosts === 1 ? "" : "s"}`,
  ];
  const leader = leaderText(t.leader);
  if (leader !== undefined) {
    const waiting =
      (t.leader.kind === "sequencer" && !t.leader.up && !t.leader.self) ||
      (t.leader.kind === "leader" && t.leader.id === undefined);
    parts.push(waiting ? s.warn(leader) : leader);
  }
  if (t.sealed !== undefined) parts.push(t.sealed ? "sealed" : s.warn("not sealed"));
  return ` ${parts.join(" │ ")}`;
}

export interface StatusInfo {
  delay: number;
  drop: number;
  /** Datagrams dropped so far by fault injection. */
  lost: number;
  up: NodeId[];
  down: NodeId[];
  unacked: number;
  held: number;
  retransmissions: number;
  panel: boolean;
  details: boolean;
  /** Lines below the bottom of the pane while scrolled back (0: following). */
  below: number;
}

export interface Segment {
  /** Markup as shown. */
  markup: string;
  /** Columns it takes (the markup without tags; all ASCII or single-width). */
  cols: number;
  /** Lower is dropped first when the bar is too narrow. */
  prio: number;
}

function seg(plain: string, prio: number, markup = plain): Segment {
  return { markup, cols: [...plain].length, prio };
}

/** A number for display: at most 3 decimals, no trailing zeros. */
export function num(v: number): string {
  return String(Number(v.toFixed(3)));
}

export function peersText(up: readonly NodeId[], down: readonly NodeId[]): string {
  if (up.length + down.length === 0) return "no peers";
  const list = (label: string, ids: readonly NodeId[]) =>
    ids.length === 0
      ? ""
      : ids.length <= 6
        ? `${label} ${compressIds(ids)}`
        : `${ids.length} ${label}`;
  return `peers ${[list("up", up), list("down", down)].filter((x) => x !== "").join(" ")}`;
}

export function statusSegments(st: StatusInfo, s: Style): Segment[] {
  const segs: Segment[] = [];
  const faults = `delay ${num(st.delay)}s drop ${num(st.drop)}`;
  const lost = st.lost > 0 ? ` (${st.lost} lost)` : "";
  const active = st.delay > 0 || st.drop > 0;
  segs.push(seg(faults + lost, 9, active ? s.warn(faults) + lost : faults + lost));
  const peers = peersText(st.up, st.down);
  segs.push(seg(peers, 8, st.down.length > 0 ? s.warn(peers) : peers));
  segs.push(seg(`unacked ${st.unacked}`, 7));
  segs.push(seg(`held ${st.held}`, 7));
  segs.push(seg(`rexmit ${st.retransmissions}`, 6));
  if (st.below > 0) {
    const t = `▼ ${st.below} more (PgDn)`;
    segs.push(seg(t, 10, s.on(t)));
  }
  const f2 = `F2 hold-back${st.panel ? " ●" : ""}`;
  segs.push(seg(f2, 5, st.panel ? s.on(f2) : f2));
  const f3 = `F3 details${st.details ? " ●" : ""}`;
  segs.push(seg(f3, 3, st.details ? s.on(f3) : f3));
  segs.push(seg("/help", 2));
  return segs;
}

/** Join segments with separators, dropping the least important ones until they fit. */
export function fitSegments(segs: readonly Segment[], cols: number, sep = " │ "): string {
  const kept = [...segs];
  const width = () =>
    kept.reduce((a, x) => a + x.cols, 0) + Math.max(0, kept.length - 1) * sep.length + 1;
  while (kept.length > 1 && width() > cols) {
    let low = 0;
    for (let i = 1; i < kept.length; i++) {
      if ((kept[i] as Segment).prio < (kept[low] as Segment).prio) low = i;
    }
    kept.splice(low, 1);
  }
  return ` ${kept.map((x) => x.markup).join(sep)}`;
}

const PREVIEW = 60;

function preview(text: string): string {
  const chars = [...text];
  return chars.length > PREVIEW ? `${chars.slice(0, PREVIEW).join("")}…` : text;
}

/** The hold-back panel: each waiting message and what it needs; then each peer's send window. */
export function heldPanel(
  ordering: Ordering,
  held: readonly HeldMessage[],
  stats: NodeStats,
  s: Style,
): string[] {
  const out: string[] = [s.bold(`hold-back queue (${held.length})`)];
  if (ordering === "fifo") {
    out.push(s.dim("fifo: each sender's channel already delivers in order; nothing waits here"));
  } else if (held.length === 0) {
    out.push(s.dim("empty: every message received has been delivered"));
  }
  const max = 200;
  for (const h of held.slice(0, max)) {
    out.push(`${s.node(h.from, `node ${h.from} #${h.seq}`)} ${inert(preview(h.text))}`);
    out.push(`  ${s.warn(`needs ${inert(h.waitingFor)}`)}`);
  }
  if (held.length > max) out.push(s.dim(`… and ${held.length - max} more`));
  out.push("");
  out.push(s.bold("send windows"));
  for (const p of stats.peers) {
    const rtt = p.srttMs === undefined ? "rtt ?" : `rtt ${p.srttMs.toFixed(1)}ms`;
    const state = p.up ? "up" : s.warn("down");
    out.push(
      `${s.node(p.id, `node ${p.id}`)} ${state} ${rtt} rto ${Math.round(p.rtoMs)}ms unacked ${p.queued}`,
    );
  }
  return out;
}

/** /peers: one line per host, then how the channel is protected and what it refused. */
export function peersReport(
  self: NodeId,
  hosts: ReadonlyArray<{ host: string; port: number }>,
  stats: NodeStats,
  trust?: { sealed: boolean; cluster: string; keys: number },
): string[] {
  const lines: string[] = [];
  hosts.forEach((h, id) => {
    const addr = `${h.host}:${h.port}`;
    if (id === self) {
      lines.push(`node ${id}  ${addr}  this node`);
      return;
    }
    const p = stats.peers.find((x) => x.id === id);
    if (!p) return;
    const rtt = p.srttMs === undefined ? "no RTT sample yet" : `srtt ${num(p.srttMs)}ms`;
    lines.push(
      `node ${id}  ${addr}  ${p.up ? p.health : p.health === "unknown" ? "down (never heard from)" : p.health}  ${rtt}  rto ${Math.round(p.rtoMs)}ms  unacked ${p.queued} (${p.inFlight} in flight)${p.up ? `  incarnation ${p.incarnation}` : ""}`,
    );
  });
  if (trust) {
    const d = stats.dropped as Partial<Record<string, number>>;
    lines.push(
      `cluster ${inert(trust.cluster)}, ${trust.sealed ? `sealed (AES-256-GCM, ${trust.keys} key${trust.keys === 1 ? "" : "s"} in the ring)` : "not sealed (no keys)"}; dropped: auth ${d.auth ?? 0}, foreign ${d.foreign ?? 0}, replay ${d.replay ?? 0}, unbound ${d.unbound ?? 0}`,
    );
  }
  return lines;
}

function bytes(n: number): string {
  if (n < 10_000) return `${n} B`;
  if (n < 10_000_000) return `${num(n / 1000)} kB`;
  return `${num(n / 1_000_000)} MB`;
}

/** /stats: the node's counters. */
export function statsReport(st: NodeStats, lost: number, sendErrors: number): string[] {
  const dropped = Object.entries(st.dropped)
    .map(([k, v]) => `${k} ${v}`)
    .join(", ");
  return [
    `datagrams sent ${st.datagramsSent} (${bytes(st.bytesSent)}), received ${st.datagramsReceived} (${bytes(st.bytesReceived)})`,
    `messages sent ${st.messagesSent}, delivered ${st.delivered}, held back ${st.heldBack}, unacked fragments ${st.unacked}`,
    `retransmissions ${st.retransmissions} (fast ${st.fastRetransmissions}), duplicates received ${st.duplicates}`,
    `dropped by fault injection ${lost}, received and dropped: ${dropped === "" ? "none" : dropped}, send errors ${sendErrors}`,
  ];
}

export function helpReport(): string[] {
  const w = Math.max(...COMMANDS.map((c) => `/${c.name} ${c.args}`.length));
  const kw = Math.max(...KEYS.map(([k]) => k.length));
  return [
    "commands:",
    ...COMMANDS.map((c) => `  ${`/${c.name} ${c.args}`.padEnd(w)}  ${c.text}`),
    "keys:",
    ...KEYS.map(([k, t]) => `  ${k.padEnd(kw)}  ${t}`),
  ];
}

/** A structured log record (one JSON line) as a pane line. */
export function logLine(line: string): { level: "info" | "warn" | "error"; text: string } {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return { level: "info", text: line.trimEnd() };
  }
  const level = rec.level === "warn" || rec.level === "error" ? rec.level : "info";
  const fields = Object.entries(rec)
    .filter(([k]) => !["time", "level", "msg", "node"].includes(k))
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`);
  const msg = typeof rec.msg === "string" ? rec.msg : JSON.stringify(rec.msg);
  return { level, text: fields.length > 0 ? `${msg} (${fields.join(", ")})` : msg };
}
