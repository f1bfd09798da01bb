import type { ChatMsg } from "../app-message.js";
import type { MsgSeq, NodeId } from "../types.js";

/** One life (incarnation) of a sender as the intake sees it. */
interface SenderLife {
  inc: number;
  /** Next seq to hand on. */
  next: MsgSeq;
  /** Highest seq that may be handed on (a view change holds the rest). */
  limit: number;
  /** Messages that arrived ahead of `next` or above `limit`. */
  early: Map<MsgSeq, ChatMsg>;
}

export type IntakeResult = "ok" | "stale-life";

/**
 * fifo/causal intake: a sender's messages reach the order layer once each and in seq order,
 * whether they come on its channel or relayed by others, and only from the sender life the
 * installed view admitted. A newer life's messages wait until a view admits it; an older
 * life's are refused. A view change holds a sender at a limit (its flush cut).
 */
export class SenderIntake {
  private readonly cur: Array<SenderLife | undefined>;
  private readonly pend: Array<SenderLife | undefined>;
  /** Per sender: the newest life that left our view (its late messages are dropped). */
  private readonly closed: number[];

  constructor(
    hostCount: number,
    private readonly maxEarly: number,
  ) {
    this.cur = new Array<SenderLife | undefined>(hostCount).fill(undefined);
    this.pend = new Array<SenderLife | undefined>(hostCount).fill(undefined);
    this.closed = new Array<number>(hostCount).fill(0);
  }

  /** Hand `m` (and what it unblocks) to `pass`, in order; early ones wait (bounded). */
  take(m: ChatMsg, inc: number, pass: (m: ChatMsg, inc: number) => void): IntakeResult {
    const k = m.from;
    const c = this.cur[k];
    if (c && c.inc === inc) {
      if (m.seq < c.next) return "ok";
      if (m.seq > c.next || m.seq > c.limit) {
        // Never dropped (its channel acknowledged it): `full` stops the channel instead, so
        // this exceeds `maxEarly` by at most one datagram's worth.
        c.early.set(m.seq, m);
        return "ok";
      }
      // In order: hand it on without the map (the common case), then what it unblocks.
      c.next++;
      pass(m, c.inc);
      if (c.early.size > 0) this.release(c, pass);
      return "ok";
    }
    if (c && inc < c.inc) return "stale-life";
    if (inc <= (this.closed[k] as number)) return "ok"; // late news of a life that left
    let p = this.pend[k];
    if (p && inc < p.inc) return "stale-life";
    if (!p || p.inc !== inc) {
      p = { inc, next: 1, limit: 0, early: new Map() };
      this.pend[k] = p;
    }
    p.early.set(m.seq, m);
    return "ok";
  }

  private release(c: SenderLife, pass: (m: ChatMsg, inc: number) => void): void {
    for (let m = c.early.get(c.next); m && c.next <= c.limit; m = c.early.get(c.next)) {
      c.early.delete(c.next);
      c.next++;
      pass(m, c.inc);
    }
  }

  /** A view admits life `inc` of sender `k`, whose messages in it start at `next`. */
  admit(k: NodeId, inc: number, next: MsgSeq, pass: (m: ChatMsg, inc: number) => void): void {
    const p = this.pend[k];
    const early = p && p.inc === inc ? p.early : new Map<MsgSeq, ChatMsg>();
    if (p && p.inc <= inc) this.pend[k] = undefined;
    for (const s of early.keys()) if (s < next) early.delete(s);
    const c: SenderLife = { inc, next, limit: Number.POSITIVE_INFINITY, early };
    this.cur[k] = c;
    this.release(c, pass);
  }

  /** Hand on sender `k`'s messages only up to `limit` (Infinity: no limit). */
  setLimit(k: NodeId, limit: number, pass: (m: ChatMsg, inc: number) => void): void {
    const c = this.cur[k];
    if (!c) return;
    c.limit = limit;
    this.release(c, pass);
  }

  /** Sender `k` left the view: nothing more of that life is taken. */
  close(k: NodeId): void {
    const c = this.cur[k];
    if (c && c.inc > (this.closed[k] as number)) this.closed[k] = c.inc;
    this.cur[k] = undefined;
    const p = this.pend[k];
    if (p && p.inc <= (this.closed[k] as number)) this.pend[k] = undefined;
  }

  /** Forget everything (a new life of our own). */
  clear(): void {
    this.cur.fill(undefined);
    this.pend.fill(undefined);
    this.closed.fill(0);
  }

  /** Messages of `k`'s admitted life handed on so far (its seqs 1..n or base..n). */
  received(k: NodeId): number {
    const c = this.cur[k];
    return c ? c.next - 1 : 0;
  }

  /** The admitted life of `k` (0: none). */
  lifeOf(k: NodeId): number {
    return this.cur[k]?.inc ?? 0;
  }

  /**
   * No room left for `k`'s early messages (of its admitted life: a life not yet admitted
   * sends nothing in our view before we admit it, so its early messages stay few).
   */
  full(k: NodeId): boolean {
    return (this.cur[k]?.early.size ?? 0) >= this.maxEarly;
  }

  /** Messages waiting (early or held at a limit). */
  get waiting(): number {
    let n = 0;
    for (const c of this.cur) n += c?.early.size ?? 0;
    for (const p of this.pend) n += p?.early.size ?? 0;
    return n;
  }

  /** For stability reports: how many messages of each sender we have, and from which life. */
  report(): { received: number[]; incs: number[] } {
    return {
      received: this.cur.map((c) => (c ? c.next - 1 : 0)),
      incs: this.cur.map((c) => c?.inc ?? 0),
    };
  }
}
