import type { NodeId, Ordering } from "../types.js";
import { CausalOrder } from "./causal.js";
import { FifoOrder } from "./fifo.js";
import type { OrderLayer } from "./layer.js";
import { TotalOrder } from "./total.js";

export type { Delivery, HeldMessage, OrderLayer } from "./layer.js";

/** Builds the order layer of one node (injectable for tests of the test suite). */
export type OrderFactory = (
  mode: Ordering,
  self: NodeId,
  hostCount: number,
  sequencer: NodeId,
) => OrderLayer;

export function makeOrderLayer(
  mode: Ordering,
  self: NodeId,
  hostCount: number,
  sequencer: NodeId,
): OrderLayer {
  switch (mode) {
    case "fifo":
      return new FifoOrder(hostCount);
    case "causal":
      return new CausalOrder(self, hostCount);
    case "total":
      return new TotalOrder(self, hostCount, sequencer);
  }
}
