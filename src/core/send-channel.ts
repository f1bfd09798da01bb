import { RtoEstimator } from "./rto.js";
import type { ProtocolLimits, Seq } from "./types.js";
import type { Ack } from "./wire.js";

/** One fragment queued or in flight towards one peer. */
export interface OutEntry {
  seq: Seq;
  flags: number;
  payload: Uint8Array;
  /** Opaque tag reported back when the peer has acknowledged the message's last fragment (0: none). */
  tag: number;
  lastSentAt: number;
  transmissions: number;
  sacked: boolean;
}

/**
 * Sender half of the reliable channel to one peer: sequence numbers, a bounded send
 * window with a bounded backlog behind it, cumulative + selective acknowledgements,
 * adaptive retransmission (RFC 6298 with Karn's rule) and SACK-based fast retransmit.
 */
export class SendChannel {
  private nextSeq: Seq = 1;
  /** In flight, in seq order. */
  private inflight: OutEntry[] = [];
  private inflightHead = 0;
  /** Not yet sent because the window is full. */
  private backlog: OutEntry[] = [];
  private backlogHead = 0;
  /** Entries to put on the wire at the next drain (new or retransmitted). */
  private due: OutEntry[] = [];
  private cumAcked: Seq = 0;
  readonly rto: RtoEstimator;
  /** When the retransmission timer was (re)started; undefined while it is off. */
  private timerArmedAt: number | undefined;
  retransmissions = 0;
  fastRetransmissions = 0;

  constructor(private readonly limits: ProtocolLimits) {
    this.rto = new RtoEstimator(limits.rtoInitialMs, limits.rtoMinMs, limits.rtoMaxMs);
  }

  /** Entries accepted but not yet acknowledged (in flight + backlog). */
  get queued(): number {
    return this.inflight.length - this.inflightHead + (this.backlog.length - this.backlogHead);
  }

  get inFlight(): number {
    return this.inflight.length - this.inflightHead;
  }

  /** True when `n` more entries fit under maxBacklog. */
  hasRoom(n: number): boolean {
    return this.queued + n <= this.limits.maxBacklog;
  }

  enqueue(flags: number, payload: Uint8Array, tag: number): void {
    const e: OutEntry = {
      seq: this.nextSeq++,
      flags,
      payload,
      tag,
      lastSentAt: -1,
      transmissions: 0,
      sacked: false,
    };
    if (this.inFlight < this.limits.window && this.backlogHead === this.backlog.length) {
      this.admit(e);
    } else {
      this.backlog.push(e);
    }
  }

  private admit(e: OutEntry): void {
    this.inflight.push(e);
    this.due.push(e);
  }

  private fillWindow(): void {
    while (this.backlogHead < this.backlog.length && this.inFlight < this.limits.window) {
      const e = this.backlog[this.backlogHead] as OutEntry;
      this.backlog[this.backlogHead++] = undefined as unknown as OutEntry;
      this.admit(e);
    }
    if (this.backlogHead > 1024 && this.backlogHead * 2 > this.backlog.length) {
      this.backlog = this.backlog.slice(this.backlogHead);
      this.backlogHead = 0;
    }
  }

  /**
   * Apply an acknowledgement. Returns the tags of messages whose last fragment became
   * cumulatively acknowledged.
   */
  onAck(now: number, ack: Ack, released: number[]): void {
    if (ack.cum >= this.nextSeq) return; // acks something never sent: ignore
    let progressed = false;
    let newestSample: OutEntry | undefined;
    let deliveredSentAt = -1;
    while (this.inflightHead < this.inflight.length) {
      const e = this.inflight[this.inflightHead] as OutEntry;
      if (e.seq > ack.cum) break;
      if (!e.sacked) {
        if (e.transmissions === 1) newestSample = e;
        if (e.lastSentAt > deliveredSentAt) deliveredSentAt = e.lastSentAt;
      }
      if (e.tag !== 0 && (e.flags & 1) === 0) released.push(e.tag);
      this.inflight[this.inflightHead++] = undefined as unknown as OutEntry;
      progressed = true;
    }
    if (ack.cum > this.cumAcked) this.cumAcked = ack.cum;
    if (ack.sacks.length > 0) {
      let r = 0;
      for (let i = this.inflightHead; i < this.inflight.length && r < ack.sacks.length; i++) {
        const e = this.inflight[i] as OutEntry;
        const range = ack.sacks[r] as [Seq, Seq];
        if (e.seq < range[0]) continue;
        if (e.seq > range[1]) {
          r++;
          i--;
          continue;
        }
        if (!e.sacked) {
          e.sacked = true;
          if (e.transmissions === 1) newestSample = e;
          if (e.lastSentAt > deliveredSentAt) deliveredSentAt = e.lastSentAt;
        }
      }
    }
    if (newestSample) this.rto.sample(now - newestSample.lastSentAt);
    if (progressed) {
      this.rto.resetBackoff();
      this.compact();
      this.timerArmedAt = this.inFlight > 0 ? now : undefined;
    }
    // Fast retransmit (RACK-like): an entry sent clearly before one that has been
    // delivered is presumed lost; the reorder window is a quarter of the smoothed RTT.
    if (deliveredSentAt >= 0) {
      const reo = Math.max(1, (this.rto.smoothedRtt ?? 0) / 4);
      for (let i = this.inflightHead; i < this.inflight.length; i++) {
        const e = this.inflight[i] as OutEntry;
        if (e.lastSentAt >= deliveredSentAt) break;
        if (
          !e.sacked &&
          e.lastSentAt >= 0 &&
          e.lastSentAt + reo < deliveredSentAt &&
          e.lastSentAt + reo <= now
        ) {
          this.markDue(e);
          this.fastRetransmissions++;
        }
      }
    }
    this.fillWindow();
  }

  private markDue(e: OutEntry): void {
    if (e.lastSentAt === -2) return; // already due
    e.lastSentAt = -2;
    this.due.push(e);
  }

  private compact(): void {
    if (this.inflightHead > 256 && this.inflightHead * 2 > this.inflight.length) {
      this.inflight = this.inflight.slice(this.inflightHead);
      this.inflightHead = 0;
    }
  }

  /** Earliest time a retransmission timer must fire, or undefined if nothing is in flight. */
  deadline(): number | undefined {
    if (this.inFlight === 0 || this.timerArmedAt === undefined) return undefined;
    return this.timerArmedAt + this.rto.rto;
  }

  /** Retransmission timeout: resend the oldest unacknowledged entries and back off. */
  onTick(now: number, maxBurst: number): void {
    const d = this.deadline();
    if (d === undefined || now < d) return;
    this.rto.onTimeout();
    let n = 0;
    for (let i = this.inflightHead; i < this.inflight.length && n < maxBurst; i++) {
      const e = this.inflight[i] as OutEntry;
      if (e.sacked || e.lastSentAt === -2) continue;
      this.markDue(e);
      this.retransmissions++;
      n++;
    }
    this.timerArmedAt = now;
  }

  /** Entries to transmit now; the caller sends them (in this order) and calls `sent`. */
  takeDue(): OutEntry[] {
    if (this.due.length === 0) return EMPTY;
    const d = this.due;
    this.due = [];
    return d;
  }

  hasDue(): boolean {
    return this.due.length > 0;
  }

  /** False when the entry was acknowledged while it waited to be (re)sent. */
  stillNeeded(e: OutEntry): boolean {
    return e.seq > this.cumAcked && !e.sacked;
  }

  sent(e: OutEntry, now: number): void {
    e.transmissions++;
    e.lastSentAt = now;
    if (this.timerArmedAt === undefined) this.timerArmedAt = now;
  }

  /** Lowest sequence number still held for the peer (sent in every frame as `base`). */
  get base(): Seq {
    if (this.inflightHead < this.inflight.length)
      return (this.inflight[this.inflightHead] as OutEntry).seq;
    if (this.backlogHead < this.backlog.length)
      return (this.backlog[this.backlogHead] as OutEntry).seq;
    return this.nextSeq;
  }

  /**
   * Release everything queued for the peer (it left the view) but keep numbering: frames
   * then carry a base above what the peer has, which tells it what it missed.
   */
  abandon(): number {
    const n = this.queued;
    this.inflight = [];
    this.inflightHead = 0;
    this.backlog = [];
    this.backlogHead = 0;
    this.due = [];
    this.timerArmedAt = undefined;
    this.rto.resetBackoff();
    return n;
  }

  /** Drop everything (the peer's incarnation changed: the old process is gone). */
  reset(): void {
    this.nextSeq = 1;
    this.inflight = [];
    this.inflightHead = 0;
    this.backlog = [];
    this.backlogHead = 0;
    this.due = [];
    this.cumAcked = 0;
    this.timerArmedAt = undefined;
    this.rto.resetBackoff();
  }

  /** Restart the timer now (used when a peer shows up for the first time). */
  kick(now: number): void {
    if (this.inFlight > 0) {
      this.rto.resetBackoff();
      this.timerArmedAt = now - this.rto.rto;
    }
  }
}

const EMPTY: OutEntry[] = [];
