/**
 * The trace event log: one JSON object per line, written by `rmchat --trace FILE`,
 * `rmchat agent --trace FILE` and the simulator, read by `rmchat trace`.
 *
 * Every record names the process life that wrote it: `node` (host index) and `inc` (its
 * incarnation; a restart is a new life with a larger one). `t` is milliseconds on a clock
 * that only moves forward within one process: the simulator's virtual clock, or for real
 * processes `performance.timeOrigin + performance.now()` (epoch-based, so the lives of
 * processes on one machine share a time line).
 */
import type { Incarnation, MsgSeq, NodeId } from "../core/types.js";

/** What a datagram carried: one multicast message (or a fragment-free part of one). */
export interface MsgRef {
  /** The message's original sender and its number there. */
  from: NodeId;
  seq: MsgSeq;
  /** chat: first copy; relay: passed on for a departed sender; submit: to the sequencer; append: in the leader's log. */
  kind: "chat" | "relay" | "submit" | "append";
}

/** Why a datagram never arrived: the user's fault layer, a partition, or the simulated link. */
export type DropCause = "fault" | "partition" | "link";

interface Base {
  t: number;
  node: NodeId;
  inc: Incarnation;
}

export type TraceRecord =
  /**
   * A life begins: a process start, or (with `rejoin`, the reason) the same process starting
   * over as a new member with a new incarnation.
   */
  | (Base & { ev: "start"; hosts: number; ordering: string; rejoin?: string })
  /** A life ends cleanly (SIGINT/SIGTERM); a life that just stops writing was killed. */
  | (Base & { ev: "stop" })
  /** The simulator crashed this life. */
  | (Base & { ev: "crash" })
  /** An own message left the node (multicast, or handed to the sequencer in total order). */
  | (Base & { ev: "send"; seq: MsgSeq; text: string })
  /**
   * A datagram left (or was dropped before leaving). `hash` (FNV-1a of the bytes) joins it to
   * the receiver's `recv`. `retx`: it carries a channel sequence number sent before.
   */
  | (Base & {
      ev: "dgram";
      to: NodeId;
      hash: string;
      bytes: number;
      msgs: MsgRef[];
      retx: boolean;
      drop?: DropCause;
    })
  /** A datagram arrived from host `from`. */
  | (Base & { ev: "recv"; from: NodeId; hash: string; bytes: number; msgs: MsgRef[] })
  /** A message was delivered to the application. */
  | (Base & {
      ev: "deliver";
      from: NodeId;
      seq: MsgSeq;
      text: string;
      order?: number;
      vc?: number[];
      /** The sender's incarnation, as the protocol reports it. */
      fromInc?: number;
      /** State transfer: the group's recent past, handed to a new member. */
      history?: true;
    })
  /** A view was installed. */
  | (Base & { ev: "view"; term: number; version: number; members: NodeId[] })
  /** The node now follows `leader` in `term` (null: no leader). */
  | (Base & { ev: "leader"; term: number; leader: NodeId | null });

export type TraceEventName = TraceRecord["ev"];

const EVENTS: readonly TraceEventName[] = [
  "start",
  "stop",
  "crash",
  "send",
  "dgram",
  "recv",
  "deliver",
  "view",
  "leader",
];

const nat = (x: unknown): x is number => typeof x === "number" && Number.isSafeInteger(x) && x >= 0;
const num = (x: unknown): x is number => typeof x === "number" && Number.isFinite(x);
const str = (x: unknown): x is string => typeof x === "string";
const natList = (x: unknown): x is number[] => Array.isArray(x) && x.every(nat);
const KINDS = new Set(["chat", "relay", "submit", "append"]);
const msgList = (x: unknown): x is MsgRef[] =>
  Array.isArray(x) &&
  x.every((m) => {
    if (typeof m !== "object" || m === null) return false;
    const r = m as Record<string, unknown>;
    return nat(r.from) && nat(r.seq) && str(r.kind) && KINDS.has(r.kind);
  });

/** Validate one parsed JSON value as a record; the problem as a short phrase otherwise. */
export function checkRecord(
  x: unknown,
): { ok: true; rec: TraceRecord } | { ok: false; why: string } {
  if (typeof x !== "object" || x === null || Array.isArray(x))
    return { ok: false, why: "not a JSON object" };
  const r = x as Record<string, unknown>;
  if (!str(r.ev) || !EVENTS.includes(r.ev as TraceEventName))
    return { ok: false, why: `unknown event ${JSON.stringify(r.ev)}` };
  if (!num(r.t) || !nat(r.node) || !nat(r.inc))
    return { ok: false, why: `${r.ev}: t, node and inc must be numbers` };
  const bad = (field: string) => ({ ok: false as const, why: `${r.ev}: bad ${field}` });
  switch (r.ev) {
    case "start":
      if (!nat(r.hosts)) return bad("hosts");
      if (!str(r.ordering)) return bad("ordering");
      if (r.rejoin !== undefined && !str(r.rejoin)) return bad("rejoin");
      break;
    case "send":
      if (!nat(r.seq)) return bad("seq");
      if (!str(r.text)) return bad("text");
      break;
    case "dgram":
      if (!nat(r.to)) return bad("to");
      if (!str(r.hash) || !nat(r.bytes)) return bad("hash or bytes");
      if (!msgList(r.msgs)) return bad("msgs");
      if (typeof r.retx !== "boolean") return bad("retx");
      if (r.drop !== undefined && r.drop !== "fault" && r.drop !== "partition" && r.drop !== "link")
        return bad("drop");
      break;
    case "recv":
      if (!nat(r.from)) return bad("from");
      if (!str(r.hash) || !nat(r.bytes)) return bad("hash or bytes");
      if (!msgList(r.msgs)) return bad("msgs");
      break;
    case "deliver":
      if (!nat(r.from) || !nat(r.seq)) return bad("from or seq");
      if (!str(r.text)) return bad("text");
      if (r.order !== undefined && !nat(r.order)) return bad("order");
      if (r.vc !== undefined && !natList(r.vc)) return bad("vc");
      if (r.fromInc !== undefined && !nat(r.fromInc)) return bad("fromInc");
      if (r.history !== undefined && r.history !== true) return bad("history");
      break;
    case "view":
      if (!nat(r.term) || !nat(r.version)) return bad("term or version");
      if (!natList(r.members)) return bad("members");
      break;
    case "leader":
      if (!nat(r.term)) return bad("term");
      if (r.leader !== null && !nat(r.leader)) return bad("leader");
      break;
  }
  return { ok: true, rec: x as TraceRecord };
}

export class TraceParseError extends Error {}

/**
 * Parse a JSON-lines trace. A last line without its newline that does not parse is the
 * write a killed process left unfinished: skipped and reported in `skipped`. Any other bad
 * line throws a TraceParseError naming the line.
 */
export function parseTrace(
  text: string,
  name: string,
): { records: TraceRecord[]; skipped: number } {
  const records: TraceRecord[] = [];
  const lines = text.split("\n");
  const unterminated = !text.endsWith("\n");
  let skipped = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === "") continue;
    const last = i === lines.length - 1;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      if (last && unterminated) {
        skipped++;
        continue;
      }
      throw new TraceParseError(`${name}:${i + 1}: not JSON`);
    }
    const c = checkRecord(v);
    if (!c.ok) throw new TraceParseError(`${name}:${i + 1}: not a trace event (${c.why})`);
    records.push(c.rec);
  }
  return { records, skipped };
}
