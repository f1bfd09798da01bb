import { describe, expect, it } from "vitest";
import type { ChatMsg } from "../../src/core/app-message.js";
import { CausalOrder } from "../../src/core/order/causal.js";
import { FifoOrder } from "../../src/core/order/fifo.js";
import { type Delivery, Queue } from "../../src/core/order/layer.js";

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
    expect(f.remote(chat(2, 7), out)).toBe("protocol-error");
    f.setBase(2, 7); // a new life of ours: sender 2's numbering starts at 7 for us
    expect(f.remote(chat(2, 7), out)).toBe("ok");
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

describe("Queue", () => {
  it("indexes from its front, across shifts and compaction", () => {
    const q = new Queue<number>();
    for (let i = 1; i <= 2000; i++) q.push(i);
    for (let i = 0; i < 1500; i++) q.shift();
    expect(q.length).toBe(500);
    expect(q.at(0)).toBe(1501);
    expect(q.at(499)).toBe(2000);
    expect(q.at(500)).toBeUndefined();
    expect(q.at(-1)).toBeUndefined();
  });
});
