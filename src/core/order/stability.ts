import type { ChatMsg } from "../app-message.js";
import type { NodeId } from "../types.js";
import { Queue } from "./layer.js";

/** A message kept until every member has it, with the incarnation of its sender. */
export interface Retained {
  msg: ChatMsg;
  inc: number;
}

interface Report {
  received: number[];
  incs: number[];
}

/**
 * Relay buffers (fifo and causal modes). Every member keeps the messages it received from
 * others until every member of the view reports having them (stability, from the periodic
 * `stable` reports). At a view change, a member that holds the cut of a sender that left
 * relays from here what others lack (see views/flush.ts).
 */
export class Stability {
  private readonly retained: Array<Queue<Retained>>;
  private readonly reports: Array<Report | undefined>;

  constructor(
    private readonly self: NodeId,
    hostCount: number,
  ) {
    this.retained = Array.from({ length: hostCount }, () => new Queue<Retained>());
    this.reports = new Array<Report | undefined>(hostCount).fill(undefined);
  }

  keep(msg: ChatMsg, inc: number): void {
    (this.retained[msg.from] as Queue<Retained>).push({ msg, inc });
  }

  report(from: NodeId, received: number[], incs: number[]): void {
    this.reports[from] = { received, incs };
  }

  /** Does member `m` report having message `seq` of sender `k` in incarnation `inc`? */
  private has(m: NodeId, k: NodeId, inc: number, seq: number): boolean {
    const r = this.reports[m];
    return r !== undefined && r.incs[k] === inc && (r.received[k] as number) >= seq;
  }

  /** Release what every member other than us and the sender has, and other lives of senders. */
  release(members: readonly NodeId[], liveInc: (k: NodeId) => number): void {
    for (let k = 0; k < this.retained.length; k++) {
      const q = this.retained[k] as Queue<Retained>;
      for (let r = q.peek(); r; r = q.peek()) {
        const stable = r.inc !== liveInc(k) || this.allHave(members, k, r.inc, r.msg.seq);
        if (!stable) break;
        q.shift();
      }
    }
  }

  /** Every member other than us and the sender reports having it (a loop: no closure per message). */
  private allHave(members: readonly NodeId[], k: NodeId, inc: number, seq: number): boolean {
    for (let i = 0; i < members.length; i++) {
      const m = members[i] as NodeId;
      if (m !== this.self && m !== k && !this.has(m, k, inc, seq)) return false;
    }
    return true;
  }

  /** Sender `k`'s message `seq` of life `inc`, if we still hold it. */
  get(k: NodeId, inc: number, seq: number): ChatMsg | undefined {
    return this.range(k, inc, seq, seq)[0];
  }

  /** Sender `k`'s messages `from..upTo` of life `inc` that we still hold, in one pass. */
  range(k: NodeId, inc: number, from: number, upTo: number): ChatMsg[] {
    const out: ChatMsg[] = [];
    for (const r of this.retained[k] as Queue<Retained>) {
      if (r.inc !== inc || r.msg.seq < from) continue;
      if (r.msg.seq > upTo) break;
      out.push(r.msg);
    }
    return out;
  }

  /** Sender `k` left the view: its messages are no longer owed by anyone. */
  forget(k: NodeId): void {
    (this.retained[k] as Queue<Retained>).clear();
    this.reports[k] = undefined;
  }

  clear(): void {
    for (let k = 0; k < this.retained.length; k++) this.forget(k);
  }

  get size(): number {
    let n = 0;
    for (const q of this.retained) n += q.length;
    return n;
  }
}
