import type { NodeId, Ordering } from "../types.js";
import { CausalOrder } from "./causal.js";
import { FifoOrder } from "./fifo.js";
import type { OrderLayer } from "./layer.js";

export type { Delivery, HeldMessage, OrderLayer } from "./layer.js";

/**
 * Builds the multicast order layer of one node; undefined for total order, which is the
 * replicated log. Injectable, so the test suite can prove it catches broken layers.
 */
export type OrderFactory = (
  mode: Ordering,
  self: NodeId,
  hostCount: number,
) => OrderLayer | undefined;

export const makeOrderLayer: OrderFactory = (mode, self, hostCount) => {
  if (mode === "fifo") return new FifoOrder(hostCount);
  if (mode === "causal") return new CausalOrder(self, hostCount);
  return undefined;
};
