import type { ChatMsg } from "../app-message.js";
import type { MsgSeq, NodeId, Ordering, OrderNo } from "../types.js";

export interface Delivery {
  from: NodeId;
  /** The sender's incarnation (filled in by the node). */
  inc?: number;
  seq: MsgSeq;
  text: string;
  /** Total mode: position in the total order (log index). */
  order?: OrderNo;
  /** Causal mode: the message's vector clock. */
  vc?: number[];
}

/** A message waiting in the hold-back queue, and what it waits for. */
export interface HeldMessage {
  from: NodeId;
  seq: MsgSeq;
  text: string;
  waitingFor: string;
}

export type Accept = "ok" | "protocol-error";

/** Fifo or causal discipline over multicast. Remote messages arrive in per-sender FIFO order. */
export interface OrderLayer {
  readonly mode: Ordering;
  /** Metadata stamped on an own message before it is multicast (causal: vector clock). */
  stamp(seq: MsgSeq): number[] | null;
  own(msg: ChatMsg, out: Delivery[]): void;
  remote(msg: ChatMsg, out: Delivery[]): Accept;
  heldBack(): HeldMessage[];
  readonly heldCount: number;
  /** The peer restarted with a new incarnation: forget what we knew of its old life. */
  peerReset(peer: NodeId): void;
  /** We are a new life: `peer`'s messages below `next` were before our time. */
  setBase(peer: NodeId, next: MsgSeq): void;
  /** A view change completed: held-back messages that can no longer become ready go. */
  discardHeld?(): void;
  /** The members of the installed view (causal: only their clock entries are waited for). */
  setMembers?(members: readonly NodeId[]): void;
}

/** A FIFO queue with O(1) amortised shift. */
export class Queue<T> {
  private items: T[] = [];
  private head = 0;
  get length(): number {
    return this.items.length - this.head;
  }
  push(x: T): void {
    this.items.push(x);
  }
  peek(): T | undefined {
    return this.items[this.head];
  }
  /** The i-th item from the front (undefined past the end). */
  at(i: number): T | undefined {
    return i < 0 ? undefined : this.items[this.head + i];
  }
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const x = this.items[this.head] as T;
    this.items[this.head++] = undefined as T;
    if (this.head > 512 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return x;
  }
  *[Symbol.iterator](): Iterator<T> {
    for (let i = this.head; i < this.items.length; i++) yield this.items[i] as T;
  }
  clear(): void {
    this.items = [];
    this.head = 0;
  }
}
