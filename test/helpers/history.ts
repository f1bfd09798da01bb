import type { HistoryEvent } from "../../src/runtime/sim.js";

export type Deliver = Extract<HistoryEvent, { kind: "deliver" }>;

export function deliveriesByNode(h: HistoryEvent[], n: number): Deliver[][] {
  const out: Deliver[][] = Array.from({ length: n }, () => []);
  for (const e of h) if (e.kind === "deliver") out[e.node]?.push(e);
  return out;
}

export const key = (from: number, seq: number): string => `${from}:${seq}`;
