import { describe, expect, it } from "vitest";
import { LifeMap } from "../../src/core/order/life-map.js";

describe("LifeMap", () => {
  it("keeps lives of one node apart, counts them, and forgets emptied nodes", () => {
    const m = new LifeMap<string>();
    m.set(1, 1001, "a");
    m.set(1, 2001, "b");
    m.set(2, 1001, "c");
    m.set(1, 1001, "a2");
    expect(m.size).toBe(3);
    expect(m.get(1, 1001)).toBe("a2");
    expect(m.get(1, 2001)).toBe("b");
    expect(m.get(2, 2001)).toBeUndefined();
    expect(m.delete(1, 1001)).toBe(true);
    expect(m.delete(1, 1001)).toBe(false);
    expect(m.size).toBe(2);
    expect([...m.entries()]).toEqual([
      [1, 2001, "b"],
      [2, 1001, "c"],
    ]);
  });
  it("is exact for incarnations past 2^53 / 1024 (no packed number key)", () => {
    const m = new LifeMap<number>();
    const big = 2 ** 50;
    m.set(3, big, 1);
    m.set(3, big + 1, 2);
    expect(m.get(3, big)).toBe(1);
    expect(m.get(3, big + 1)).toBe(2);
  });
  it("allows deleting while iterating", () => {
    const m = new LifeMap<number>();
    for (let i = 0; i < 5; i++) m.set(i % 2, 1000 + i, i);
    for (const [from, inc, v] of m.entries()) if (v % 2 === 0) m.delete(from, inc);
    expect([...m.entries()].map((e) => e[2]).sort()).toEqual([1, 3]);
    expect(m.size).toBe(2);
  });
});
