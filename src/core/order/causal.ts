import type { ChatMsg } from "../app-message.js";
import type { MsgSeq, NodeId } from "../types.js";
import { type Accept, type Delivery, type HeldMessage, type OrderLayer, Queue } from "./layer.js";

/**
 * Causal order with vector clocks. `delivered[k]` counts k's messages delivered here.
 * A message m from s is deliverable when vc[s] = delivered[s] + 1 and vc[k] <= delivered[k]
 * for every other k. Own messages are causally ready at once and delivered locally.
 */
export class CausalOrder implements OrderLayer {
  readonly mode = "causal" as const;
  private readonly delivered: number[];
  private readonly queues: Array<Queue<ChatMsg>>;
  /** Next seq expected on the channel from each sender (validation). */
  private readonly received: MsgSeq[];
  private held = 0;
  /** Whose clock entries a message waits for (members of the installed view). */
  private active: boolean[];

  constructor(
    private readonly self: NodeId,
    hostCount: number,
  ) {
    this.delivered = new Array<number>(hostCount).fill(0);
    this.received = new Array<number>(hostCount).fill(0);
    this.queues = Array.from({ length: hostCount }, () => new Queue<ChatMsg>());
    this.active = new Array<boolean>(hostCount).fill(true);
  }

  setMembers(members: readonly NodeId[]): void {
    this.active.fill(false);
    for (const m of members) this.active[m] = true;
  }

  discardHeld(): void {
    for (const q of this.queues) q.clear();
    this.held = 0;
  }

  stamp(seq: MsgSeq): number[] {
    const vc = this.delivered.slice();
    vc[this.self] = seq;
    return vc;
  }

  own(msg: ChatMsg, out: Delivery[]): void {
    this.delivered[this.self] = msg.seq;
    this.received[this.self] = msg.seq;
    out.push({ from: msg.from, seq: msg.seq, text: msg.text, vc: msg.vc ?? [] });
  }

  remote(msg: ChatMsg, out: Delivery[]): Accept {
    if (msg.vc === null || msg.seq !== (this.received[msg.from] as number) + 1) {
      return "protocol-error";
    }
    this.received[msg.from] = msg.seq;
    const q = this.queues[msg.from] as Queue<ChatMsg>;
    if (q.length === 0 && this.ready(msg)) {
      this.deliver(msg, out);
      this.drain(out);
    } else {
      q.push(msg);
      this.held++;
    }
    return "ok";
  }

  private ready(m: ChatMsg): boolean {
    const vc = m.vc as number[];
    for (let k = 0; k < vc.length; k++) {
      if (k === m.from) {
        if (vc[k] !== (this.delivered[k] as number) + 1) return false;
      } else if (this.active[k] && (vc[k] as number) > (this.delivered[k] as number)) return false;
    }
    return true;
  }

  private deliver(m: ChatMsg, out: Delivery[]): void {
    this.delivered[m.from] = m.seq;
    out.push({ from: m.from, seq: m.seq, text: m.text, vc: m.vc as number[] });
  }

  private drain(out: Delivery[]): void {
    if (this.held === 0) return;
    let progress = true;
    while (progress) {
      progress = false;
      for (const q of this.queues) {
        let m = q.peek();
        while (m && this.ready(m)) {
          q.shift();
          this.held--;
          this.deliver(m, out);
          progress = true;
          m = q.peek();
        }
      }
    }
  }

  heldBack(): HeldMessage[] {
    const res: HeldMessage[] = [];
    for (const q of this.queues) {
      for (const m of q) {
        const vc = m.vc as number[];
        const missing: string[] = [];
        for (let k = 0; k < vc.length; k++) {
          const need = k === m.from ? (vc[k] as number) - 1 : (vc[k] as number);
          if (need > (this.delivered[k] as number)) missing.push(`${k}#${need}`);
        }
        res.push({
          from: m.from,
          seq: m.seq,
          text: m.text,
          waitingFor: `causal predecessor ${missing.join(", ")}`,
        });
      }
    }
    return res;
  }

  get heldCount(): number {
    return this.held;
  }

  setBase(peer: NodeId, next: MsgSeq): void {
    // Join semantics: what the sender sent before our time counts as delivered.
    this.received[peer] = next - 1;
    this.delivered[peer] = Math.max(this.delivered[peer] as number, next - 1);
  }

  peerReset(peer: NodeId): void {
    const q = this.queues[peer] as Queue<ChatMsg>;
    this.held -= q.length;
    q.clear();
    this.delivered[peer] = 0;
    this.received[peer] = 0;
  }
}
