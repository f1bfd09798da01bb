import { describe, expect, it } from "vitest";
import type { ChatMsg } from "../../src/core/app-message.js";
import { FifoOrder } from "../../src/core/order/fifo.js";
import { makeOrderLayer, type OrderFactory } from "../../src/core/order/index.js";
import type { Delivery, OrderLayer } from "../../src/core/order/layer.js";
import type { Ordering } from "../../src/core/types.js";
import { fuzz } from "../../src/fuzz/property.js";

/**
 * The suite must be able to fail: against deliberately broken order layers, fast-check has
 * to find (and shrink) a counterexample that the matching checker names.
 */
const BUDGET = 300;
const SEED = 4242;

/** Use `broken` for `mode`, the real layers otherwise. */
const only =
  (mode: Ordering, broken: (self: number, n: number) => OrderLayer): OrderFactory =>
  (m, self, n) =>
    m === mode ? broken(self, n) : makeOrderLayer(m, self, n);

/** Loses every remote message whose seq is 3 modulo 5 (a broken reliability layer). */
class LossyFifo extends FifoOrder {
  override remote(msg: ChatMsg, out: Delivery[]) {
    const r = super.remote(msg, out);
    if (msg.seq % 5 === 3) out.pop();
    return r;
  }
}

/** Delivers each sender's odd-numbered message only after the even one that follows it. */
class SwappingFifo extends FifoOrder {
  private readonly held = new Map<number, Delivery>();
  override remote(msg: ChatMsg, out: Delivery[]) {
    const tmp: Delivery[] = [];
    const r = super.remote(msg, tmp);
    for (const d of tmp) {
      const h = this.held.get(d.from);
      if (d.seq % 2 === 1) this.held.set(d.from, d);
      else out.push(d, ...(h ? [h] : []));
      if (h && d.seq % 2 === 0) this.held.delete(d.from);
    }
    return r;
  }
}

function expectCounterexample(mode: Ordering, factory: OrderFactory, checker: string) {
  // Only the checker under test, so shrinking cannot wander off to another property.
  const out = fuzz({ mode, runs: BUDGET, seed: SEED, orderFactory: factory, checkers: [checker] });
  expect(out.ok).toBe(false);
  expect(
    out.failures.some((f) => f.startsWith(`${checker}:`)),
    out.report ?? "",
  ).toBe(true);
  expect(out.report).toContain(`replay: npm run fuzz -- --mode ${mode} --seed ${SEED} --path `);
  expect(out.report).toContain("schedule (shrunk):");
}

// Total order does not go through an order layer (the leader's log sequences it): its
// negative control is the commitWithoutQuorum knob in negative-controls.test.ts.
describe("the fuzz suite catches broken order layers", () => {
  it("causal mode with a layer that delivers at once (FIFO only): causal checker fails", () => {
    expectCounterexample(
      "causal",
      only("causal", (_s, n) => new FifoOrder(n)),
      "causal",
    );
  });
  it("fifo mode with a layer that swaps a sender's messages: fifo checker fails", () => {
    expectCounterexample(
      "fifo",
      only("fifo", (_s, n) => new SwappingFifo(n)),
      "fifo",
    );
  });
  it("fifo mode with a layer that loses messages: validity checker fails", () => {
    expectCounterexample(
      "fifo",
      only("fifo", (_s, n) => new LossyFifo(n)),
      "validity",
    );
  });
});
