import type { ChatMsg } from "../app-message.js";
import type { MsgSeq, NodeId } from "../types.js";
import type { Accept, Delivery, HeldMessage, OrderLayer } from "./layer.js";

/** Per-sender FIFO: the channel already delivers each sender's messages in order. */
export class FifoOrder implements OrderLayer {
  readonly mode = "fifo" as const;
  /** Next seq expected from each sender. */
  private readonly next: MsgSeq[];

  constructor(hostCount: number) {
    this.next = new Array<MsgSeq>(hostCount).fill(1);
  }

  stamp(): null {
    return null;
  }

  own(msg: ChatMsg, out: Delivery[]): void {
    this.next[msg.from] = msg.seq + 1;
    out.push({ from: msg.from, seq: msg.seq, text: msg.text });
  }

  remote(msg: ChatMsg, out: Delivery[]): Accept {
    if (msg.seq !== this.next[msg.from]) return "protocol-error";
    this.next[msg.from] = msg.seq + 1;
    out.push({ from: msg.from, seq: msg.seq, text: msg.text });
    return "ok";
  }

  heldBack(): HeldMessage[] {
    return [];
  }

  get heldCount(): number {
    return 0;
  }

  peerReset(peer: NodeId): void {
    this.next[peer] = 1;
  }

  setBase(peer: NodeId, next: MsgSeq): void {
    this.next[peer] = next;
  }
}
