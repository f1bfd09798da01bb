import { RmNode } from "../core/node.js";
import { Histogram } from "./histogram.js";
import { DeliveryChecker } from "./verify.js";
import { makeText, type ParsedText, parseText, type WorkloadSpec } from "./workloads.js";

const warmed = new Set<string>();

/** Deliveries the warm-up aims at: enough for V8 to optimise the hot paths. */
const WARMUP_DELIVERIES = 20_000;

/**
 * Warm the JIT before the start instant: the protocol core of N nodes exchanging messages
 * in memory (sans-I/O: no socket, no timer), with this workload's ordering, size and the
 * benchmark's own text and checking code. A chat that has run for a while is in this state;
 * without it a short burst measures V8's interpreter rather than the protocol. The measured
 * node is a fresh one: no protocol state (RTT estimate, sequence numbers) carries over.
 */
export function warmUp(spec: WorkloadSpec): void {
  // Once per process and shape: the JIT keeps what it compiled.
  const key = `${spec.nodes}/${spec.ordering}/${spec.size}`;
  if (warmed.has(key)) return;
  warmed.add(key);
  const n = spec.nodes;
  const per = Math.max(20, Math.ceil(WARMUP_DELIVERIES / (n * n)));
  const nodes = Array.from(
    { length: n },
    (_, i) =>
      new RmNode({
        id: i,
        hostCount: n,
        incarnation: 1 + i,
        ordering: spec.ordering,
        limits: spec.limits,
        random: Math.random,
      }),
  );
  const queue: Array<{ from: number; to: number; bytes: Uint8Array }> = [];
  const checkers = nodes.map((_, i) => new DeliveryChecker(n, i, spec.ordering, false));
  const hist = new Histogram();
  const parsed: ParsedText = { from: 0, seq: 0, sentAt: 0, hop: 0 };
  // Fractional times, as performance.now() gives: code optimised for small integers would deopt.
  let now = 1000.25;
  const drain = (i: number): void => {
    const r = (nodes[i] as RmNode).drain(now);
    for (const d of r.datagrams) queue.push({ from: i, to: d.to, bytes: d.bytes });
    for (const e of r.events) {
      if (e.type !== "deliver") continue;
      if (parseText(e.text, parsed)) hist.record(now - parsed.sentAt);
      (checkers[i] as DeliveryChecker).check(e.from, e.seq, 0, e.order, e.vc);
    }
  };
  const exchange = (): void => {
    for (let k = 0; k < 1000 && queue.length > 0; k++) {
      const batch = queue.splice(0);
      for (const q of batch) (nodes[q.to] as RmNode).receive(now, q.from, q.bytes);
      for (let i = 0; i < n; i++) drain(i);
    }
  };
  for (let i = 0; i < n; i++) drain(i);
  exchange();
  const sent = new Array<number>(n).fill(0);
  for (let round = 0; round < 10_000; round++) {
    let more = false;
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < 64 && (sent[i] as number) < per; k++) {
        const seq = (sent[i] as number) + 1;
        if (!(nodes[i] as RmNode).send(now, makeText(i, seq, now, 0, spec.size)).ok) break;
        sent[i] = seq;
      }
      if ((sent[i] as number) < per) more = true;
      drain(i);
    }
    exchange();
    now += 0.731;
    if (!more) break;
  }
}
