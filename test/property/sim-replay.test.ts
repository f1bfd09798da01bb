import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ORDERINGS, type Ordering } from "../../src/core/types.js";
import { campaign, runChunk } from "../../src/fuzz/campaign.js";
import { runPlan } from "../../src/fuzz/runner.js";
import { normalize, type Plan, scenarioArb } from "../../src/fuzz/scenario.js";
import { EventQueue } from "../../src/runtime/heap.js";

/** A digest of everything a run recorded: the full history, final state, lease samples, settling. */
function digest(p: Plan): string {
  const r = runPlan(p);
  return createHash("sha256")
    .update(JSON.stringify(r.trace))
    .update(String(r.settledAt))
    .digest("hex");
}

function plans(mode: Ordering, seed: number, n: number): Plan[] {
  return fc
    .sample(scenarioArb(mode), { seed, numRuns: n })
    .map((s) => normalize(mode, s, { crash: "clean" }));
}

describe("simulator: a seed replays exactly", () => {
  for (const mode of ORDERINGS) {
    it(`${mode}: the same plans twice give the same history, digest for digest`, () => {
      const ps = plans(mode, 424_242, 4);
      const first = ps.map(digest);
      const again = ps.map(digest);
      expect(again).toEqual(first);
      // The digest sees the history: another simulator seed for the same schedule changes it.
      const other = ps.map((p) => digest({ ...p, seed: p.seed ^ 0x5555 }));
      expect(other.filter((d, i) => d === first[i])).toHaveLength(0);
    });
  }
});

describe("event queue", () => {
  it("pops by time, ties in insertion order, across growth and slot reuse", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.boolean()), { maxLength: 400 }),
        (ops) => {
          const q = new EventQueue<string>();
          const model: Array<{ t: number; n: number }> = [];
          let n = 0;
          for (const [t, pop] of ops) {
            if (pop && model.length > 0) {
              model.sort((x, y) => x.t - y.t || x.n - y.n);
              const want = model.shift() as { t: number; n: number };
              expect(q.pop()).toBe(true);
              expect([q.t, q.a, q.ref]).toEqual([want.t, want.n, `e${want.n}`]);
            } else {
              q.push(t, 0, n, 0, `e${n}`);
              model.push({ t, n: n++ });
            }
          }
          model.sort((x, y) => x.t - y.t || x.n - y.n);
          for (const want of model) {
            expect(q.peekTime()).toBe(want.t);
            expect(q.pop()).toBe(true);
            expect([q.t, q.a]).toEqual([want.t, want.n]);
          }
          expect(q.pop()).toBe(false);
          expect(q.peekTime()).toBe(Infinity);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("event queue: reschedule and remove", () => {
  it("a moved event pops as if removed and pushed again; a removed one never pops", () => {
    // Ops: push at t, pop, move the k-th live event to t, remove the k-th live event.
    const op = fc.oneof(
      fc.record({ k: fc.constant("push" as const), t: fc.integer({ min: 0, max: 30 }) }),
      fc.record({ k: fc.constant("pop" as const) }),
      fc.record({
        k: fc.constant("move" as const),
        i: fc.nat(),
        t: fc.integer({ min: 0, max: 30 }),
      }),
      fc.record({ k: fc.constant("remove" as const), i: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300, size: "medium" }), (ops) => {
        const q = new EventQueue<string>();
        // The model: live events with their time, insertion number, id and slot.
        const model: Array<{ t: number; n: number; id: number; slot: number; b: number }> = [];
        let n = 0;
        let ids = 0;
        const sorted = () => model.sort((x, y) => x.t - y.t || x.n - y.n);
        for (const o of ops) {
          if (o.k === "push") {
            const id = ids++;
            const slot = q.push(o.t, 0, id, 0, `e${id}`);
            model.push({ t: o.t, n: n++, id, slot, b: 0 });
          } else if (o.k === "pop") {
            if (model.length === 0) continue;
            const want = sorted().shift() as (typeof model)[number];
            expect(q.pop()).toBe(true);
            expect([q.t, q.a, q.b, q.ref]).toEqual([want.t, want.id, want.b, `e${want.id}`]);
          } else if (o.k === "move") {
            if (model.length === 0) continue;
            const e = model[o.i % model.length] as (typeof model)[number];
            q.reschedule(e.slot, o.t, e.b + 1);
            e.b++;
            e.t = o.t;
            e.n = n++;
          } else {
            if (model.length === 0) continue;
            const [e] = model.splice(o.i % model.length, 1) as [(typeof model)[number]];
            q.remove(e.slot);
          }
          expect(q.size).toBe(model.length);
          expect(q.nextOrder).toBe(n);
        }
        for (const want of sorted()) {
          expect(q.peekTime()).toBe(want.t);
          expect(q.pop()).toBe(true);
          expect([q.t, q.a]).toEqual([want.t, want.id]);
        }
        expect(q.pop()).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it("moving or removing a slot that is not queued throws", () => {
    const q = new EventQueue<string>();
    const s = q.push(1, 0, 0, 0, "x");
    q.pop();
    expect(() => q.reschedule(s, 2, 0)).toThrow(/not queued/);
    expect(() => q.remove(s)).toThrow(/not queued/);
  });
});

describe("fuzz campaign: chunks and workers run the same scenarios", () => {
  const base = { seed: 777, crash: "clean" as const };

  it("runs 0..5 in two chunks simulate what one chunk of six does", () => {
    const whole = runChunk({ ...base, mode: "causal", start: 0, count: 6 });
    const a = runChunk({ ...base, mode: "causal", start: 0, count: 2 });
    const b = runChunk({ ...base, mode: "causal", start: 2, count: 4 });
    expect(whole.outcome.ok).toBe(true);
    expect(a.virtualMs + b.virtualMs).toBe(whole.virtualMs);
    expect(a.events + b.events).toBe(whole.events);
    // Not vacuous: the chunk from run 2 on is not the chunk from run 0 on.
    const shifted = runChunk({ ...base, mode: "causal", start: 0, count: 4 });
    expect(shifted.events).not.toBe(b.events);
  });

  it("worker threads give the verdicts and simulate the time one process does", async () => {
    const cfg = { ...base, modes: ["fifo", "total"] as Ordering[], runs: 6, chunk: 2 };
    const one = await campaign({ ...cfg, jobs: 1 });
    const two = await campaign({ ...cfg, jobs: 2 });
    const view = (r: typeof one) =>
      r.modes.map((m) => [m.mode, m.ok, m.executed, m.report, m.virtualMs, m.events]);
    expect(view(two)).toEqual(view(one));
    expect(two.jobs).toBe(2);
    expect(one.modes.every((m) => m.virtualMs > 0 && m.events > 0)).toBe(true);
  });
});
