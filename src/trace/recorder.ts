import { decodeApp } from "../core/app-message.js";
import type { NodeEvent } from "../core/node-types.js";
import type { Incarnation, NodeId } from "../core/types.js";
import { decodeFrame, FLAG_MORE } from "../core/wire.js";
import type { DropCause, MsgRef, TraceRecord } from "./events.js";

/** FNV-1a over the bytes, as 8 hex digits: joins a datagram sent to the same datagram received. */
export function datagramHash(bytes: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i] as number;
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, "0");
}

/** What one datagram carries, read with the protocol's own decoders (never throws). */
export function inspectDatagram(
  bytes: Uint8Array,
  hostCount: number,
):
  | { ok: false }
  | { ok: true; from: NodeId; to: NodeId; toInc: number; seqs: number[]; msgs: MsgRef[] } {
  const d = decodeFrame(bytes, hostCount);
  if (!d.ok) return { ok: false };
  const f = d.frame;
  const msgs: MsgRef[] = [];
  const seqs: number[] = [];
  let prevMore = false;
  for (const e of f.data) {
    seqs.push(e.seq);
    // A message split over fragments is not decoded (its middle and end are not messages).
    const whole = e.flags === 0 && !prevMore;
    prevMore = (e.flags & FLAG_MORE) !== 0;
    if (!whole) continue;
    const m = decodeApp(f.from, e.payload, hostCount);
    if (!m) continue;
    if (m.kind === "chat") msgs.push({ from: m.from, seq: m.seq, kind: "chat" });
    else if (m.kind === "relay") msgs.push({ from: m.msg.from, seq: m.msg.seq, kind: "relay" });
    else if (m.kind === "submit") msgs.push({ from: f.from, seq: m.seq, kind: "submit" });
    else if (m.kind === "append") {
      for (const x of m.entries)
        if (x.from >= 0) msgs.push({ from: x.from, seq: x.seq, kind: "append" });
    }
  }
  return { ok: true, from: f.from, to: f.to, toInc: f.toInc, seqs, msgs };
}

const round = (t: number): number => Math.round(t * 1000) / 1000;

/**
 * Turns what a shell sees (node events, datagrams in and out, sends, lifecycle) into trace
 * records for `sink`. It sits at the fault layer of either shell, never in the core.
 * Retransmissions are recognised per channel: a data entry whose sequence number was
 * already sent to the same life of the same peer.
 */
export class TraceRecorder {
  /** Highest channel sequence number sent, per `${node}>${to}@${toInc}`. */
  private readonly highest = new Map<string, number>();

  constructor(
    private readonly sink: (rec: TraceRecord) => void,
    private readonly hostCount: number,
    /** Added to every time stamp (real processes: performance.timeOrigin). */
    private readonly offset = 0,
  ) {}

  private at(t: number): number {
    return round(t + this.offset);
  }

  start(t: number, node: NodeId, inc: Incarnation, ordering: string): void {
    this.ordering = ordering;
    this.sink({ ev: "start", t: this.at(t), node, inc, hosts: this.hostCount, ordering });
  }

  private ordering = "";

  stop(t: number, node: NodeId, inc: Incarnation): void {
    this.sink({ ev: "stop", t: this.at(t), node, inc });
  }

  crash(t: number, node: NodeId, inc: Incarnation): void {
    this.sink({ ev: "crash", t: this.at(t), node, inc });
  }

  /** A datagram this life hands to the network (`drop`: it never leaves). */
  datagram(
    t: number,
    node: NodeId,
    inc: Incarnation,
    to: NodeId,
    bytes: Uint8Array,
    drop?: DropCause,
  ): void {
    const d = inspectDatagram(bytes, this.hostCount);
    let retx = false;
    if (d.ok && d.seqs.length > 0) {
      const key = `${node}>${to}@${d.toInc}`;
      const hi = this.highest.get(key) ?? 0;
      let top = hi;
      for (const s of d.seqs) {
        if (s <= hi) retx = true;
        if (s > top) top = s;
      }
      this.highest.set(key, top);
    }
    const rec: TraceRecord = {
      ev: "dgram",
      t: this.at(t),
      node,
      inc,
      to,
      hash: datagramHash(bytes),
      bytes: bytes.length,
      msgs: d.ok ? d.msgs : [],
      retx,
    };
    if (drop) rec.drop = drop;
    this.sink(rec);
  }

  /** A datagram that reached this life from host `from`. */
  receive(t: number, node: NodeId, inc: Incarnation, from: NodeId, bytes: Uint8Array): void {
    const d = inspectDatagram(bytes, this.hostCount);
    this.sink({
      ev: "recv",
      t: this.at(t),
      node,
      inc,
      from,
      hash: datagramHash(bytes),
      bytes: bytes.length,
      msgs: d.ok ? d.msgs : [],
    });
  }

  /**
   * The node events that belong in a trace (own messages leaving, deliveries, rejoins, views,
   * leaders); others are ignored. `inc` is the life the event belongs to.
   */
  event(t: number, node: NodeId, inc: Incarnation, ev: NodeEvent): void {
    const at = this.at(t);
    if (ev.type === "sent") {
      this.sink({ ev: "send", t: at, node, inc, seq: ev.seq, text: ev.text });
    } else if (ev.type === "rejoin") {
      this.sink({
        ev: "start",
        t: at,
        node,
        inc: ev.incarnation,
        hosts: this.hostCount,
        ordering: this.ordering,
        rejoin: ev.reason,
      });
    } else if (ev.type === "deliver") {
      this.sink({
        ev: "deliver",
        t: at,
        node,
        inc,
        from: ev.from,
        seq: ev.seq,
        text: ev.text,
        ...deliveryExtras(ev),
      });
    } else if (ev.type === "view") {
      this.sink({
        ev: "view",
        t: at,
        node,
        inc,
        term: ev.term,
        version: ev.version,
        members: [...ev.members],
      });
    } else if (ev.type === "leader") {
      this.sink({ ev: "leader", t: at, node, inc, term: ev.term, leader: ev.leader });
    }
  }
}

/** A delivery's optional facts, as the simulator's history and the trace both record them. */
export function deliveryExtras(ev: Extract<NodeEvent, { type: "deliver" }>): {
  order?: number;
  vc?: number[];
  fromInc?: number;
  history?: true;
} {
  const x: { order?: number; vc?: number[]; fromInc?: number; history?: true } = {};
  if (ev.order !== undefined) x.order = ev.order;
  if (ev.vc !== undefined) x.vc = ev.vc;
  if (ev.inc !== undefined) x.fromInc = ev.inc;
  if (ev.history) x.history = true;
  return x;
}
