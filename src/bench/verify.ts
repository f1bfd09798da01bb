import type { Ordering } from "../core/types.js";

/**
 * Checks every delivery at one node as it happens, in O(N) time and O(N) memory (a 60 s run
 * delivers millions of messages; keeping them all would distort the memory measurement):
 *
 * - exactly once and FIFO: each sender's seq numbers arrive as 1, 2, 3, … with no gap,
 *   duplicate or reordering; at the end the coordinator compares each count with what the
 *   sender actually sent (so nothing is missing either);
 * - causal: the vector clock on an own message must equal what this node had delivered when
 *   it sent it (so the stamps are truthful), and a remote message is delivered only once
 *   everything its clock names has been delivered here;
 * - total: increasing order numbers (log positions: a new leader's no-op leaves a gap) and a
 *   running hash of the (sender, seq) sequence, which
 *   the coordinator compares across nodes: same hash and count = same order everywhere;
 * - chain workload (causal and total): the links arrive in chain order at every node.
 */
export class DeliveryChecker {
  readonly perSender: number[];
  violations = 0;
  readonly samples: string[] = [];
  /** Chain workload in fifo mode: links delivered before their causal predecessor (allowed). */
  chainInversions = 0;
  private lastOrder = 0;
  private lastHop = 0;
  private h1 = 0x811c9dc5;
  private h2 = 0x01000193;

  constructor(
    private readonly n: number,
    private readonly self: number,
    private readonly ordering: Ordering,
    private readonly chain: boolean,
  ) {
    this.perSender = new Array<number>(n).fill(0);
  }

  private fail(msg: string): void {
    this.violations++;
    if (this.samples.length < 10) this.samples.push(`node ${this.self}: ${msg}`);
  }

  /** One delivery, in delivery order. `hop` is the chain link number (0 outside chains). */
  check(
    from: number,
    seq: number,
    hop: number,
    order: number | undefined,
    vc: number[] | undefined,
  ): void {
    const per = this.perSender;
    if (!(from >= 0 && from < this.n)) {
      this.fail(`delivery from unknown sender ${from}`);
      return;
    }
    const expected = (per[from] as number) + 1;
    if (seq !== expected) {
      this.fail(
        seq < expected
          ? `duplicate or late ${from}#${seq} (already at #${expected - 1})`
          : `gap: ${from}#${seq} delivered before ${from}#${expected}`,
      );
      if (seq > expected) per[from] = seq;
      return;
    }
    if (this.ordering === "causal") this.checkCausal(from, seq, vc);
    else if (this.ordering === "total") {
      if (order === undefined || order <= this.lastOrder) {
        this.fail(`order number ${order} after ${this.lastOrder}`);
      }
      if (order !== undefined) this.lastOrder = order;
      this.h1 = Math.imul(this.h1 ^ (from + 1), 0x01000193) >>> 0;
      this.h1 = Math.imul(this.h1 ^ seq, 0x01000193) >>> 0;
      this.h2 = Math.imul(this.h2 ^ seq, 0x5bd1e995) >>> 0;
      this.h2 = Math.imul(this.h2 ^ (from + 7), 0x5bd1e995) >>> 0;
    }
    if (this.chain) {
      if (hop !== this.lastHop + 1) {
        if (this.ordering === "fifo") this.chainInversions++;
        else this.fail(`chain link ${hop} delivered after link ${this.lastHop}`);
      }
      if (hop > this.lastHop) this.lastHop = hop;
    }
    per[from] = seq;
  }

  private checkCausal(from: number, seq: number, vc: number[] | undefined): void {
    const per = this.perSender;
    if (!vc || vc.length !== this.n) {
      this.fail(`${from}#${seq} delivered without a vector clock of ${this.n} entries`);
      return;
    }
    if (vc[from] !== seq) this.fail(`${from}#${seq} carries vc[${from}] = ${vc[from]}`);
    for (let k = 0; k < this.n; k++) {
      if (k === from) continue;
      const v = vc[k] as number;
      const have = per[k] as number;
      if (from === this.self) {
        if (v !== have) this.fail(`own ${from}#${seq} stamped vc[${k}] = ${v}, delivered ${have}`);
      } else if (v > have) {
        this.fail(`${from}#${seq} needs ${k}#${v} but only ${k}#${have} was delivered`);
      }
    }
  }

  /** Running hash of the total order (equal at every node that delivered the same sequence). */
  get orderHash(): string {
    return `${this.h1.toString(16).padStart(8, "0")}${this.h2.toString(16).padStart(8, "0")}`;
  }

  get delivered(): number {
    let s = 0;
    for (const c of this.perSender) s += c;
    return s;
  }
}
