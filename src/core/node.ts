import { type ChatMsg, decodeApp, encodeChat, encodeOrder } from "./app-message.js";
import {
  type Delivery,
  type HeldMessage,
  makeOrderLayer,
  type OrderFactory,
  type OrderLayer,
} from "./order/index.js";
import { RecvChannel } from "./recv-channel.js";
import { SendChannel } from "./send-channel.js";
import type { Incarnation, MsgSeq, NodeId, Ordering, ProtocolLimits } from "./types.js";
import {
  type DataEntry,
  type DecodeError,
  decodeFrame,
  ENTRY_OVERHEAD,
  encodeFrame,
  FLAG_MORE,
  FRAME_OVERHEAD,
} from "./wire.js";

/** Largest datagram UDP over IPv4 can carry; anything above is dropped unread. */
export const MAX_UDP_PAYLOAD = 65507;
/** Entries resent at most per peer on one retransmission timeout. */
const TIMEOUT_BURST = 64;

export interface NodeOptions {
  id: NodeId;
  hostCount: number;
  incarnation: Incarnation;
  ordering: Ordering;
  /** Total order: the sequencer's id (node 0 until elections exist). */
  sequencer: NodeId;
  limits: ProtocolLimits;
  /** Builds the order layer; tests inject broken layers here. Default: `makeOrderLayer`. */
  makeOrder?: OrderFactory;
}

export type NodeEvent =
  | ({ type: "deliver" } & Delivery)
  | { type: "acked"; seq: MsgSeq; peer: NodeId; by: number }
  | { type: "peer"; peer: NodeId; state: "up" | "restarted"; incarnation: Incarnation }
  | { type: "notice"; level: "info" | "warn"; msg: string };

export interface OutDatagram {
  to: NodeId;
  bytes: Uint8Array;
}

export interface DrainResult {
  datagrams: OutDatagram[];
  events: NodeEvent[];
}

export type SendResult = { ok: true; seq: MsgSeq } | { ok: false; error: string };

export type DropReason =
  | DecodeError
  | "too-large"
  | "wrong-source"
  | "misdirected"
  | "stale-incarnation"
  | "bad-message"
  | "protocol-error";

export interface PeerStats {
  id: NodeId;
  up: boolean;
  incarnation: Incarnation;
  queued: number;
  inFlight: number;
  srttMs: number | undefined;
  rtoMs: number;
}

export interface NodeStats {
  datagramsSent: number;
  datagramsReceived: number;
  bytesSent: number;
  bytesReceived: number;
  messagesSent: number;
  delivered: number;
  unacked: number;
  heldBack: number;
  retransmissions: number;
  fastRetransmissions: number;
  duplicates: number;
  dropped: Partial<Record<DropReason, number>>;
  peers: PeerStats[];
}

interface Peer {
  id: NodeId;
  /** Incarnation we address our frames to (0 = never heard from it). */
  knownInc: Incarnation;
  send: SendChannel;
  recv: RecvChannel;
}

/**
 * One rmchat process as a pure state machine: feed it datagrams, ticks and user sends
 * with the current time; take frames to send, deliveries and the next wake-up time.
 */
export class RmNode {
  readonly id: NodeId;
  readonly incarnation: Incarnation;
  readonly ordering: Ordering;
  private readonly hostCount: number;
  private readonly limits: ProtocolLimits;
  private readonly peers: Array<Peer | undefined>;
  private readonly order: OrderLayer;
  private readonly sequencer: NodeId;
  private readonly fragSize: number;
  private ownSeq: MsgSeq = 0;
  /** Own messages: how many peers acknowledged them so far. */
  private readonly ackCount = new Map<MsgSeq, number>();
  private deliveries: Delivery[] = [];
  private events: NodeEvent[] = [];
  private released: number[] = [];
  private waitingNoticeGiven = false;
  private readonly st = {
    datagramsSent: 0,
    datagramsReceived: 0,
    bytesSent: 0,
    bytesReceived: 0,
    messagesSent: 0,
    delivered: 0,
    dropped: {} as Partial<Record<DropReason, number>>,
  };

  constructor(opts: NodeOptions) {
    this.id = opts.id;
    this.incarnation = opts.incarnation;
    this.ordering = opts.ordering;
    this.hostCount = opts.hostCount;
    this.limits = opts.limits;
    this.sequencer = opts.sequencer;
    this.fragSize = Math.max(64, opts.limits.maxDatagram - FRAME_OVERHEAD - ENTRY_OVERHEAD);
    const makeOrder = opts.makeOrder ?? makeOrderLayer;
    this.order = makeOrder(opts.ordering, opts.id, opts.hostCount, opts.sequencer);
    this.peers = [];
    for (let p = 0; p < opts.hostCount; p++) {
      if (p === opts.id) {
        this.peers.push(undefined);
        continue;
      }
      const recv = new RecvChannel(opts.limits);
      // Announce ourselves at the first drain: peers learn our incarnation at once.
      recv.ackPending = true;
      this.peers.push({ id: p, knownInc: 0, send: new SendChannel(opts.limits), recv });
    }
  }

  /** Multicast a user message. Nothing is sent when it is refused. */
  send(_now: number, text: string): SendResult {
    const size = Buffer.byteLength(text, "utf8");
    if (size > this.limits.maxMessageBytes) {
      return {
        ok: false,
        error: `message too large: ${size} bytes (limit ${this.limits.maxMessageBytes})`,
      };
    }
    const seq = this.ownSeq + 1;
    const msg: ChatMsg = { kind: "chat", from: this.id, seq, text, vc: this.order.stamp(seq) };
    const bytes = encodeChat(msg);
    const frags = Math.max(1, Math.ceil(bytes.length / this.fragSize));
    for (const p of this.peers) {
      if (p && !p.send.hasRoom(frags)) {
        return {
          ok: false,
          error: `send backlog full: node ${p.id} has ${p.send.queued} unacknowledged fragments (limit ${this.limits.maxBacklog})`,
        };
      }
    }
    this.ownSeq = seq;
    this.multicast(bytes, seq);
    this.st.messagesSent++;
    if (this.hostCount > 1) this.ackCount.set(seq, 0);
    this.order.own(msg, this.deliveries);
    return { ok: true, seq };
  }

  private multicast(bytes: Uint8Array, tag: number): void {
    const n = Math.max(1, Math.ceil(bytes.length / this.fragSize));
    for (const p of this.peers) {
      if (!p) continue;
      for (let i = 0; i < n; i++) {
        const chunk = n === 1 ? bytes : bytes.subarray(i * this.fragSize, (i + 1) * this.fragSize);
        p.send.enqueue(i < n - 1 ? FLAG_MORE : 0, chunk, i === n - 1 ? tag : 0);
      }
    }
  }

  private drop(reason: DropReason): false {
    this.st.dropped[reason] = (this.st.dropped[reason] ?? 0) + 1;
    return false;
  }

  /**
   * A datagram arrived. `source` is the id whose configured address and port it came
   * from (undefined when the address is not in the host list). Returns false when the
   * datagram was dropped (and counted in `stats().dropped`).
   */
  receive(now: number, source: NodeId | undefined, bytes: Uint8Array): boolean {
    this.st.datagramsReceived++;
    this.st.bytesReceived += bytes.length;
    if (bytes.length > MAX_UDP_PAYLOAD) return this.drop("too-large");
    const res = decodeFrame(bytes, this.hostCount);
    if (!res.ok) return this.drop(res.error);
    const f = res.frame;
    if (source === undefined || source !== f.from) return this.drop("wrong-source");
    if (f.to !== this.id) return this.drop("misdirected");
    const p = this.peers[f.from];
    if (!p) return this.drop("wrong-source");
    const recvInc = p.knownInc;
    if (f.inc < recvInc) return this.drop("stale-incarnation");
    if (f.inc > recvInc) {
      if (recvInc !== 0) {
        // A new life of the peer: its old process is gone, and so is what we owed it.
        p.recv.reset();
        p.send.reset();
        this.order.peerReset(p.id);
        this.events.push({ type: "peer", peer: p.id, state: "restarted", incarnation: f.inc });
      } else {
        p.send.kick(now);
        this.events.push({ type: "peer", peer: p.id, state: "up", incarnation: f.inc });
      }
      p.knownInc = f.inc;
      p.recv.ackPending = true;
    }
    if (f.ack && f.toInc === this.incarnation) {
      const released = this.released;
      p.send.onAck(now, f.ack, released);
      for (const seq of released) {
        const k = (this.ackCount.get(seq) ?? 0) + 1;
        if (k >= this.hostCount - 1) this.ackCount.delete(seq);
        else this.ackCount.set(seq, k);
        this.events.push({ type: "acked", seq, peer: p.id, by: k });
      }
      released.length = 0;
    }
    if (f.data.length > 0) {
      if (f.toInc !== this.incarnation) {
        // Meant for an earlier life of ours, or sent before the peer knew which life it
        // talks to (toInc 0): accepting the latter could mix a channel the peer is about to
        // reset into this life's stream. Answer so the sender learns our incarnation and
        // resends, addressed to us.
        p.recv.ackPending = true;
        return this.drop("stale-incarnation");
      }
      this.onData(p, f.data);
    }
    return true;
  }

  private readonly complete: Uint8Array[] = [];

  private onData(p: Peer, data: DataEntry[]): void {
    const complete = this.complete;
    for (const d of data) p.recv.receive(d.seq, d.flags, d.payload, complete);
    for (const bytes of complete) {
      const m = decodeApp(p.id, bytes, this.hostCount);
      if (!m) {
        this.drop("bad-message");
        continue;
      }
      const r =
        m.kind === "chat"
          ? this.order.remote(m, this.deliveries)
          : this.order.order(p.id, m, this.deliveries);
      if (r !== "ok") this.drop("protocol-error");
    }
    complete.length = 0;
  }

  /** Timers: call at (or after) `nextWake()`. */
  tick(now: number): void {
    for (const p of this.peers) p?.send.onTick(now, TIMEOUT_BURST);
  }

  nextWake(): number | undefined {
    let t: number | undefined;
    for (const p of this.peers) {
      const d = p?.send.deadline();
      if (d !== undefined && (t === undefined || d < t)) t = d;
    }
    return t;
  }

  /** Everything to do after the events so far: frames to send, deliveries, notices. */
  drain(now: number): DrainResult {
    const ctrl = this.order.takeControl();
    if (ctrl) this.multicast(encodeOrder(ctrl), 0);
    const datagrams: OutDatagram[] = [];
    for (const p of this.peers) {
      if (!p) continue;
      if (!p.send.hasDue() && !p.recv.ackPending) continue;
      this.framesFor(p, now, datagrams);
    }
    if (this.deliveries.length > 0) {
      for (const d of this.deliveries) this.events.push({ type: "deliver", ...d });
      this.st.delivered += this.deliveries.length;
      this.deliveries = [];
    }
    this.checkWaiting();
    const events = this.events;
    this.events = [];
    return { datagrams, events };
  }

  private framesFor(p: Peer, now: number, out: OutDatagram[]): void {
    const due = p.send.takeDue();
    const budget = this.limits.maxDatagram - FRAME_OVERHEAD;
    let batch: DataEntry[] = [];
    let size = 0;
    const flush = (): void => {
      const bytes = encodeFrame({
        from: this.id,
        inc: this.incarnation,
        to: p.id,
        toInc: p.knownInc,
        ack: p.knownInc !== 0 || p.recv.ackPending ? p.recv.ack() : null,
        data: batch,
      });
      p.recv.ackPending = false;
      out.push({ to: p.id, bytes });
      this.st.datagramsSent++;
      this.st.bytesSent += bytes.length;
      batch = [];
      size = 0;
    };
    for (const e of due) {
      if (!p.send.stillNeeded(e)) continue;
      const need = e.payload.length + ENTRY_OVERHEAD;
      if (batch.length > 0 && size + need > budget) flush();
      batch.push(e);
      size += need;
      p.send.sent(e, now);
    }
    if (batch.length > 0 || p.recv.ackPending) flush();
  }

  private checkWaiting(): void {
    if (this.ordering !== "total" || this.id === this.sequencer) return;
    const seqPeer = this.peers[this.sequencer];
    const waiting = this.order.heldCount > 0 && seqPeer?.knownInc === 0;
    if (waiting && !this.waitingNoticeGiven) {
      this.waitingNoticeGiven = true;
      this.events.push({
        type: "notice",
        level: "warn",
        msg: `total order waits for the sequencer (node ${this.sequencer}), which has not been heard from yet`,
      });
    } else if (!waiting && this.waitingNoticeGiven && seqPeer?.knownInc !== 0) {
      this.waitingNoticeGiven = false;
      this.events.push({
        type: "notice",
        level: "info",
        msg: `sequencer node ${this.sequencer} is up`,
      });
    }
  }

  heldBack(): HeldMessage[] {
    return this.order.heldBack();
  }

  /** Own message `seq`: how many peers have acknowledged it (all of them once released). */
  ackedBy(seq: MsgSeq): number {
    if (seq > this.ownSeq) return 0;
    return this.ackCount.get(seq) ?? this.hostCount - 1;
  }

  stats(): NodeStats {
    let unacked = 0;
    let retransmissions = 0;
    let fast = 0;
    let duplicates = 0;
    const peers: PeerStats[] = [];
    for (const p of this.peers) {
      if (!p) continue;
      unacked += p.send.queued;
      retransmissions += p.send.retransmissions;
      fast += p.send.fastRetransmissions;
      duplicates += p.recv.duplicates;
      peers.push({
        id: p.id,
        up: p.knownInc !== 0,
        incarnation: p.knownInc,
        queued: p.send.queued,
        inFlight: p.send.inFlight,
        srttMs: p.send.rto.smoothedRtt,
        rtoMs: p.send.rto.rto,
      });
    }
    return {
      ...this.st,
      dropped: { ...this.st.dropped },
      unacked,
      heldBack: this.order.heldCount,
      retransmissions: retransmissions + fast,
      fastRetransmissions: fast,
      duplicates,
      peers,
    };
  }

  /** Buffered state (for boundedness checks): unacked entries, out-of-order entries, held-back messages. */
  buffered(): { unacked: number; outOfOrder: number; heldBack: number } {
    let unacked = 0;
    let outOfOrder = 0;
    for (const p of this.peers) {
      if (!p) continue;
      unacked += p.send.queued;
      outOfOrder += p.recv.buffered;
    }
    return { unacked, outOfOrder, heldBack: this.order.heldCount };
  }

  /** Buffered state towards / from one peer: our unacked entries, its out-of-order entries. */
  peerBuffered(peer: NodeId): { unacked: number; outOfOrder: number } | undefined {
    const p = this.peers[peer];
    return p ? { unacked: p.send.queued, outOfOrder: p.recv.buffered } : undefined;
  }
}
