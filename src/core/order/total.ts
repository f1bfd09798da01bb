import type { ChatMsg, OrderMsg } from "../app-message.js";
import type { MsgSeq, NodeId, OrderNo } from "../types.js";
import { type Accept, type Delivery, type HeldMessage, type OrderLayer, Queue } from "./layer.js";

/**
 * Total order through a sequencer. Every message is multicast to all; the sequencer
 * numbers messages in the order its FIFO channels hand them over (so each sender's FIFO
 * order is kept) and multicasts the numbers in batches. A node delivers message number g
 * once it holds both the number and the message.
 */
export class TotalOrder implements OrderLayer {
  readonly mode = "total" as const;
  /** Messages received per sender, not yet delivered, in seq order. */
  private readonly queues: Array<Queue<ChatMsg>>;
  private readonly received: MsgSeq[];
  /** Order numbers known but not yet delivered: flat (sender, seq). */
  private readonly log = new Queue<[NodeId, MsgSeq]>();
  /** Next order number expected in the log / to be delivered. */
  private nextLogged: OrderNo = 1;
  private nextDelivered: OrderNo = 1;
  /** At the sequencer: numbers assigned and not yet multicast. */
  private pending: number[] = [];
  private pendingFirst: OrderNo = 1;
  private held = 0;

  constructor(
    private readonly self: NodeId,
    hostCount: number,
    private readonly sequencer: NodeId,
  ) {
    this.queues = Array.from({ length: hostCount }, () => new Queue<ChatMsg>());
    this.received = new Array<number>(hostCount).fill(0);
  }

  get isSequencer(): boolean {
    return this.self === this.sequencer;
  }

  stamp(): null {
    return null;
  }

  own(msg: ChatMsg, out: Delivery[]): void {
    this.received[this.self] = msg.seq;
    this.enqueue(msg, out);
  }

  remote(msg: ChatMsg, out: Delivery[]): Accept {
    if (msg.seq !== (this.received[msg.from] as number) + 1) return "protocol-error";
    this.received[msg.from] = msg.seq;
    this.enqueue(msg, out);
    return "ok";
  }

  private enqueue(msg: ChatMsg, out: Delivery[]): void {
    (this.queues[msg.from] as Queue<ChatMsg>).push(msg);
    this.held++;
    if (this.isSequencer) {
      if (this.pending.length === 0) this.pendingFirst = this.nextLogged;
      this.pending.push(msg.from, msg.seq);
      this.log.push([msg.from, msg.seq]);
      this.nextLogged++;
    }
    this.drain(out);
  }

  order(from: NodeId, msg: OrderMsg, out: Delivery[]): Accept {
    if (from !== this.sequencer || this.isSequencer) return "protocol-error";
    if (msg.first !== this.nextLogged) return "protocol-error";
    for (let i = 0; i < msg.ids.length; i += 2) {
      this.log.push([msg.ids[i] as NodeId, msg.ids[i + 1] as MsgSeq]);
    }
    this.nextLogged += msg.ids.length / 2;
    this.drain(out);
    return "ok";
  }

  private drain(out: Delivery[]): void {
    for (;;) {
      const next = this.log.peek();
      if (!next) return;
      const q = this.queues[next[0]] as Queue<ChatMsg>;
      const m = q.peek();
      if (!m || m.seq !== next[1]) return;
      q.shift();
      this.log.shift();
      this.held--;
      out.push({ from: m.from, seq: m.seq, text: m.text, order: this.nextDelivered++ });
    }
  }

  takeControl(): OrderMsg | null {
    if (this.pending.length === 0) return null;
    const m: OrderMsg = { kind: "order", first: this.pendingFirst, ids: this.pending };
    this.pending = [];
    return m;
  }

  heldBack(): HeldMessage[] {
    const res: HeldMessage[] = [];
    for (const q of this.queues) {
      for (const m of q) {
        res.push({
          from: m.from,
          seq: m.seq,
          text: m.text,
          waitingFor: `order number from sequencer ${this.sequencer}`,
        });
      }
    }
    return res;
  }

  get heldCount(): number {
    return this.held;
  }

  /** Numbers received but whose message has not arrived yet. */
  get orderedWaiting(): number {
    return this.log.length;
  }

  peerReset(peer: NodeId): void {
    const q = this.queues[peer] as Queue<ChatMsg>;
    this.held -= q.length;
    q.clear();
    this.received[peer] = 0;
  }
}
