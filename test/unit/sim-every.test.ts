import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EventQueue } from "../../src/runtime/heap.js";
import { Sim } from "../../src/runtime/sim.js";

/**
 * Sim.every must be indistinguishable from an observer that reschedules itself with `at`:
 * the same instants, each in the same place among the events of equal time.
 */
describe("Sim.every: a periodic observer without queue events", () => {
  type Log = string[];

  /** A 3-node sim with user actions at exact instants (some on the observer's grid). */
  function scenario(actions: Array<[number, number]>, log: Log): Sim {
    const sim = new Sim({ seed: 5, hosts: 3, ordering: "causal" });
    for (const [t, node] of actions)
      sim.at(t, () => {
        log.push(`act ${t} n${node} changes=${sim.changes}`);
        sim.send(node, `m@${t}`);
      });
    return sim;
  }

  const observe = (sim: Sim, log: Log) => (t: number) => {
    const leaders = [0, 1, 2].map((i) => sim.node(i)?.status().leader ?? "-").join("");
    log.push(`obs ${t} now=${sim.now} changes=${sim.changes} leaders=${leaders}`);
  };

  /** The scenario with an observer installed by `install`, then events scheduled after it. */
  function record(
    actions: Array<[number, number]>,
    install: (sim: Sim, obs: (t: number) => void) => void,
  ): Log {
    const log: Log = [];
    const sim = scenario(actions, log);
    install(sim, observe(sim, log));
    for (const [t, node] of actions.slice(0, 2))
      sim.at(t, () => log.push(`late-act ${t} n${node} changes=${sim.changes}`));
    sim.run(400);
    sim.run(900);
    log.push(JSON.stringify(sim.history));
    return log;
  }

  const withAt = (actions: Array<[number, number]>, start: number, period: number): Log =>
    record(actions, (sim, obs) => {
      const tick = (): void => {
        obs(sim.now);
        sim.at(sim.now + period, tick);
      };
      sim.at(start, tick);
    });

  const withEvery = (actions: Array<[number, number]>, start: number, period: number): Log =>
    record(actions, (sim, obs) => sim.every(start, period, obs));

  it("sees what a self-rescheduling `at` observer sees, ties included", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.oneof(
              fc.integer({ min: 0, max: 90 }).map((k) => k * 10),
              fc.integer({ min: 0, max: 900 }),
            ),
            fc.integer({ min: 0, max: 2 }),
          ),
          { maxLength: 12 },
        ),
        fc.integer({ min: 0, max: 50 }),
        fc.constantFrom(5, 10, 7.5),
        (actions, start, period) => {
          const a = withAt(actions, start, period);
          expect(withEvery(actions, start, period)).toEqual(a);
          expect(a.filter((l) => l.startsWith("obs")).length).toBeGreaterThan(50);
        },
      ),
      { numRuns: 25 },
    );
  });

  it("a tie goes to whichever was scheduled first", () => {
    const order: string[] = [];
    const sim = new Sim({ seed: 1, hosts: 2, ordering: "fifo" });
    sim.at(10, () => order.push("before"));
    sim.every(10, 10, (t) => {
      if (t === 10 || t === 20) order.push(`obs ${t}`);
    });
    sim.at(10, () => order.push("after"));
    // Scheduled at t=10 (after the observer's call at 10 put its next one at 20): runs after it.
    sim.at(10, () => sim.at(20, () => order.push("scheduled at 10 for 20")));
    sim.at(15, () => sim.at(20, () => order.push("scheduled at 15 for 20")));
    sim.run(30);
    expect(order).toEqual([
      "before",
      "obs 10",
      "after",
      "obs 20",
      "scheduled at 10 for 20",
      "scheduled at 15 for 20",
    ]);
    expect(() => sim.every(0, 1, () => {})).toThrow(/one periodic observer/);
  });

  it("the event queue tells the insertion number of its head and of the next push", () => {
    const q = new EventQueue<undefined>();
    expect(q.peekOrder()).toBe(Infinity);
    expect(q.nextOrder).toBe(0);
    q.push(5, 0, 0, 0, undefined);
    q.push(3, 0, 0, 0, undefined);
    q.push(3, 0, 0, 0, undefined);
    expect(q.nextOrder).toBe(3);
    expect([q.peekTime(), q.peekOrder()]).toEqual([3, 1]);
    q.pop();
    expect([q.peekTime(), q.peekOrder()]).toEqual([3, 2]);
    q.pop();
    expect([q.peekTime(), q.peekOrder()]).toEqual([5, 0]);
  });
});
