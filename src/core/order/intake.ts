import type { ChatMsg } from "../app-message.js";
import type { MsgSeq, NodeId } from "../types.js";

export type IntakeResult = "ok" | "stale-life";

/**
 * fifo/causal intake: a sender's messages reach the order layer once each and in seq order,
 * whether they come on its channel or relayed by others, and only from one life (incarnation)
 * of the sender at a time. Early messages wait (bounded); a `base` says where a sender's
 * numbering starts for a new life of ours.
 */
export class SenderIntake {
  private next: MsgSeq[];
  private early: Array<Map<MsgSeq, ChatMsg>>;
  /** The sender life whose messages we take (0: none yet). */
  private inc: number[];

  constructor(
    hostCount: number,
    private readonly maxEarly: number,
  ) {
    this.next = new Array<MsgSeq>(hostCount).fill(1);
    this.early = Array.from({ length: hostCount }, () => new Map<MsgSeq, ChatMsg>());
    this.inc = new Array<number>(hostCount).fill(0);
  }

  /** Hand `m` (and what it unblocks) to `pass`, in order; early ones wait. */
  take(m: ChatMsg, inc: number, pass: (m: ChatMsg, inc: number) => void): IntakeResult {
    const k = m.from;
    if (this.inc[k] !== 0 && this.inc[k] !== inc) return "stale-life";
    let next = this.next[k] as MsgSeq;
    const early = this.early[k] as Map<MsgSeq, ChatMsg>;
    if (m.seq < next) return "ok";
    if (m.seq > next) {
      if (early.size < this.maxEarly) early.set(m.seq, m);
      return "ok";
    }
    this.inc[k] = inc;
    for (let cur: ChatMsg | undefined = m; cur; cur = early.get(next)) {
      early.delete(next);
      pass(cur, inc);
      next++;
    }
    for (const s of early.keys()) if (s < next) early.delete(s);
    this.next[k] = next;
    return "ok";
  }

  /**
   * Sender `k`'s numbering starts at `next` for us (we are a new life to it): `moved` runs first
   * (the order layer's base), then whatever waited at `next` is handed on.
   */
  setBase(
    k: NodeId,
    next: MsgSeq,
    inc: number,
    pass: (m: ChatMsg, inc: number) => void,
    moved: () => void,
  ): void {
    if (next <= (this.next[k] as MsgSeq)) return;
    this.next[k] = next;
    this.inc[k] = inc;
    moved();
    const early = this.early[k] as Map<MsgSeq, ChatMsg>;
    for (const s of early.keys()) if (s < next) early.delete(s);
    const first = early.get(next);
    if (first) this.take(first, inc, pass);
  }

  /** A new life of sender `k`: start over. */
  newLife(k: NodeId, inc: number): void {
    this.next[k] = 1;
    this.early[k]?.clear();
    this.inc[k] = inc;
  }

  /** The life of `k` we take messages from (0: none yet). */
  lifeOf(k: NodeId): number {
    return this.inc[k] as number;
  }

  dropEarly(k: NodeId): void {
    this.early[k]?.clear();
  }

  /** For stability reports: how many messages of each sender we have, and from which life. */
  report(): { received: number[]; incs: number[] } {
    return { received: this.next.map((n) => Math.max(0, n - 1)), incs: [...this.inc] };
  }
}
