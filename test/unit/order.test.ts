import { describe, expect, it } from "vitest";
import type { ChatMsg } from "../../src/core/app-message.js";
import { CausalOrder } from "../../src/core/order/causal.js";
import { FifoOrder } from "../../src/core/order/fifo.js";
import type { Delivery } from "../../src/core/order/layer.js";
import { TotalOrder } from "../../src/core/order/total.js";

const chat = (from: number, seq: number, vc: number[] | null = null): ChatMsg => ({
  kind: "chat",
  from,
  seq,
  text: `${from}.${seq}`,
  vc,
});
const ids = (d: Delivery[]) => d.map((x) => `${x.from}.${x.seq}`);

describe("fifo", () => {
  it("delivers at once and rejects a gap as a protocol error", () => {
    const f = new FifoOrder(3);
    const out: Delivery[] = [];
    expect(f.remote(chat(1, 1), out)).toBe("ok");
    expect(f.remote(chat(1, 3), out)).toBe("protocol-error");
    expect(f.remote(chat(2, 7), out)).toBe("ok"); // first on a channel: sets the base
    expect(ids(out)).toEqual(["1.1", "2.7"]);
  });
});

describe("causal", () => {
  it("holds a message back until its causal predecessor is delivered", () => {
    const c = new CausalOrder(0, 3);
    const out: Delivery[] = [];
    // 2's message depends on 1's first message, which has not arrived yet.
    c.remote(chat(2, 1, [0, 1, 1]), out);
    expect(out).toEqual([]);
    expect(c.heldCount).toBe(1);
    expect(c.heldBack()[0]?.waitingFor).toBe("causal predecessor 1#1");
    c.remote(chat(1, 1, [0, 1, 0]), out);
    expect(ids(out)).toEqual(["1.1", "2.1"]);
    expect(c.heldCount).toBe(0);
  });
  it("stamps own messages with what was delivered and delivers them at once", () => {
    const c = new CausalOrder(1, 3);
    const out: Delivery[] = [];
    c.remote(chat(0, 1, [1, 0, 0]), out);
    expect(c.stamp(1)).toEqual([1, 1, 0]);
    c.own(chat(1, 1, [1, 1, 0]), out);
    expect(ids(out)).toEqual(["0.1", "1.1"]);
  });
});

describe("total", () => {
  it("the sequencer numbers messages in arrival order and delivers them in that order", () => {
    const s = new TotalOrder(0, 3, 0);
    const out: Delivery[] = [];
    s.remote(chat(2, 1), out);
    s.own(chat(0, 1), out);
    s.remote(chat(1, 1), out);
    expect(ids(out)).toEqual(["2.1", "0.1", "1.1"]);
    expect(out.map((d) => d.order)).toEqual([1, 2, 3]);
    expect(s.takeControl()).toEqual({ kind: "order", first: 1, ids: [2, 1, 0, 1, 1, 1] });
    expect(s.takeControl()).toBeNull();
  });
  it("a member waits for both the message and its number", () => {
    const m = new TotalOrder(1, 3, 0);
    const out: Delivery[] = [];
    m.own(chat(1, 1), out);
    m.remote(chat(2, 1), out);
    expect(out).toEqual([]);
    expect(m.heldBack().map((h) => h.waitingFor)).toEqual([
      "order number from sequencer 0",
      "order number from sequencer 0",
    ]);
    expect(m.order(0, { kind: "order", first: 1, ids: [2, 1, 0, 1, 1, 1] }, out)).toBe("ok");
    expect(ids(out)).toEqual(["2.1"]); // 0.1 not here yet: 1.1 waits behind it
    m.remote(chat(0, 1), out);
    expect(ids(out)).toEqual(["2.1", "0.1", "1.1"]);
    expect(m.order(2, { kind: "order", first: 4, ids: [] }, out)).toBe("protocol-error");
    expect(m.order(0, { kind: "order", first: 9, ids: [1, 2] }, out)).toBe("protocol-error");
  });
});
