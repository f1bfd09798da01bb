import type { ChatMsg } from "../app-message.js";
import type { NodeId } from "../types.js";
import { Queue } from "./layer.js";

/** A message kept until every member has it, with the incarnation of its sender. */
export interface Retained {
  msg: ChatMsg;
  inc: number;
  /** When it was received. */
  at: number;
}

interface Report {
  received: number[];
  incs: number[];
}

/**
 * Agreement when a sender dies mid-multicast (fifo and causal modes). Every node keeps the
 * messages it received from others until every member of the view reports having them
 * (stability, from the periodic `stable` reports); when a sender leaves the view, each
 * node relays that sender's unstable messages to the members that lack them.
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

  keep(msg: ChatMsg, inc: number, now: number): void {
    (this.retained[msg.from] as Queue<Retained>).push({ msg, inc, at: now });
  }

  report(from: NodeId, received: number[], incs: number[]): void {
    this.reports[from] = { received, incs };
  }

  /** Does member `m` report having message `seq` of sender `k` in incarnation `inc`? */
  private has(m: NodeId, k: NodeId, inc: number, seq: number): boolean {
    const r = this.reports[m];
    return r !== undefined && r.incs[k] === inc && (r.received[k] as number) >= seq;
  }

  /**
   * Release what every member other than us and the sender has; keep at most `limit` per
   * sender, and nothing of a sender life older than `liveInc(k)` (it came back as a new life).
   */
  release(
    members: readonly NodeId[],
    limit: number,
    liveInc: (k: NodeId) => number,
    keptSince: number,
  ): void {
    for (let k = 0; k < this.retained.length; k++) {
      const q = this.retained[k] as Queue<Retained>;
      // Bounded in count, in age (a member that never reports it is given up on), and by life.
      for (
        let r = q.peek();
        r && (q.length > limit || r.at < keptSince || r.inc < liveInc(k));
        r = q.peek()
      ) {
        q.shift();
      }
      if (members.length === 0) continue;
      for (let r = q.peek(); r; r = q.peek()) {
        const stable = members.every(
          (m) => m === this.self || m === k || this.has(m, k, r.inc, r.msg.seq),
        );
        if (!stable) break;
        q.shift();
      }
    }
  }

  /** Sender `k` left the view: what to relay to whom. */
  relays(k: NodeId, members: readonly NodeId[]): Array<{ to: NodeId; r: Retained }> {
    const out: Array<{ to: NodeId; r: Retained }> = [];
    for (const r of this.retained[k] as Queue<Retained>) {
      for (const m of members) {
        if (m !== this.self && m !== k && !this.has(m, k, r.inc, r.msg.seq)) out.push({ to: m, r });
      }
    }
    return out;
  }

  /** The sender restarted: its old life's messages are no longer owed by anyone. */
  forget(k: NodeId): void {
    (this.retained[k] as Queue<Retained>).clear();
  }

  get size(): number {
    let n = 0;
    for (const q of this.retained) n += q.length;
    return n;
  }
}
