import type { NodeId, Ordering } from "../types.js";
import { CausalOrder } from "./causal.js";
import { FifoOrder } from "./fifo.js";
import type { OrderLayer } from "./layer.js";

export type { Delivery, HeldMessage, OrderLayer } from "./layer.js";

/** Builds the multicast order layer of one node (injectable for tests of the test suite). */
export type OrderFactory = (mode: "fifo" | "causal", self: NodeId, hostCount: number) => OrderLayer;

export function makeOrderLayer(
  mode: Exclude<Ordering, "total">,
  self: NodeId,
  hostCount: number,
): OrderLayer {
  return mode === "fifo" ? new FifoOrder(hostCount) : new CausalOrder(self, hostCount);
}
