import fc from "fast-check";
import type { UnsafeKnobs } from "../../src/core/node-types.js";
import type { Ordering } from "../../src/core/types.js";
import type { LinkSpec, Scenario, SendGroup } from "../../src/fuzz/scenario.js";

/**
 * The negative controls of the fuzz suite: deliberately broken protocol variants (`unsafe`
 * knobs of the core) and, for each, a scenario space aimed at the fault the knob breaks
 * (arbitrary for the control: it only has to be one where the broken variant shows).
 */

const link = (drop: [number, number], spikes: boolean): fc.Arbitrary<LinkSpec> =>
  fc.record({
    dropPct: fc.integer({ min: drop[0], max: drop[1] }),
    dupPct: fc.integer({ min: 0, max: 10 }),
    delayMinMs: fc.integer({ min: 0, max: 10 }),
    jitterMs: fc.integer({ min: 0, max: 20 }),
    spikePct: spikes ? fc.integer({ min: 0, max: 10 }) : fc.constant(0),
    spikeMs: fc.integer({ min: 50, max: 800 }),
  });

/** Busy traffic: bursts from several nodes and rounds where every node sends. */
const traffic = (nodes: number): fc.Arbitrary<SendGroup[]> =>
  fc.array(
    fc.oneof(
      fc.record({
        kind: fc.constant("burst" as const),
        at: fc.integer({ min: 0, max: 900 }),
        node: fc.integer({ min: 0, max: nodes - 1 }),
        count: fc.integer({ min: 3, max: 20 }),
        gapMs: fc.integer({ min: 0, max: 30 }),
        size: fc.integer({ min: 1, max: 600 }),
      }),
      fc.record({
        kind: fc.constant("all" as const),
        at: fc.integer({ min: 0, max: 1000 }),
        size: fc.integer({ min: 1, max: 200 }),
      }),
    ),
    { minLength: 2, maxLength: 8 },
  );

interface Aim {
  nodes: [number, number];
  drop: [number, number];
  spikes: boolean;
  /** Crashes (abrupt) per run, and how soon a victim restarts (null: never). */
  crashes: [number, number];
  restartAfterMs: fc.Arbitrary<number | null>;
  partitions: boolean;
  lateStarts: boolean;
}

const aimed = (a: Aim): fc.Arbitrary<Scenario> =>
  fc.integer({ min: a.nodes[0], max: a.nodes[1] }).chain((nodes) =>
    fc.record({
      nodes: fc.constant(nodes),
      seed: fc.integer({ min: 0, max: 0x7fffffff }),
      limits: fc.constant({ window: 1024, maxBacklog: 100_000, maxDatagram: 1400 }),
      user: fc.constant({ delayMs: 0, dropPct: 0 }),
      link: link(a.drop, a.spikes),
      links: fc.constant([]),
      faultEndMs: fc.integer({ min: 1000, max: 3000 }),
      sends: traffic(nodes),
      partitions: a.partitions
        ? fc.array(
            fc.record({
              at: fc.integer({ min: 0, max: 1000 }),
              lengthMs: fc.integer({ min: 50, max: 1500 }),
              side: fc.uniqueArray(fc.integer({ min: 0, max: nodes - 1 }), {
                minLength: 1,
                maxLength: Math.max(1, Math.floor((nodes - 1) / 2)),
              }),
            }),
            { maxLength: 2 },
          )
        : fc.constant([]),
      lateStarts: a.lateStarts
        ? fc.array(
            fc.record({
              node: fc.integer({ min: 0, max: nodes - 1 }),
              at: fc.integer({ min: 0, max: 300 }),
            }),
            { maxLength: 2 },
          )
        : fc.constant([]),
      crashes: fc.array(
        fc.record({
          node: fc.integer({ min: 0, max: nodes - 1 }),
          at: fc.integer({ min: 50, max: 900 }),
          restartAfterMs: a.restartAfterMs,
        }),
        { minLength: a.crashes[0], maxLength: a.crashes[1] },
      ),
    }),
  );

export interface Control {
  name: string;
  mode: Ordering;
  unsafe: UnsafeKnobs;
  checker: string;
  scenarios: fc.Arbitrary<Scenario>;
}

export const CONTROLS: Control[] = [
  {
    name: "no flush at a view change (skipFlush)",
    mode: "fifo",
    unsafe: { skipFlush: true },
    checker: "agreement",
    // a sender dies mid-multicast on lossy links: only a flush gives its last messages to all
    scenarios: aimed({
      nodes: [3, 5],
      drop: [10, 40],
      spikes: false,
      crashes: [1, 2],
      restartAfterMs: fc.constant(null),
      partitions: false,
      lateStarts: false,
    }),
  },
  {
    name: "a leader that commits before a quorum stores the entry (commitWithoutQuorum)",
    mode: "total",
    unsafe: { commitWithoutQuorum: true },
    checker: "total",
    // every node sends while nodes (the leader among them) crash for good: no log is lost to
    // a restart, so a lost position can only come from the knob (README: "Total order and
    // lost memory" is the limit a restart brings)
    scenarios: aimed({
      nodes: [3, 5],
      drop: [0, 30],
      spikes: true,
      crashes: [1, 2],
      restartAfterMs: fc.constant(null),
      partitions: false,
      lateStarts: false,
    }),
  },
  {
    name: "a voter that votes twice in a term (voteTwice)",
    mode: "fifo",
    unsafe: { voteTwice: true },
    checker: "leaders",
    // elections again and again: late starts, crashes, partitions and loss split the votes
    scenarios: aimed({
      nodes: [3, 7],
      drop: [10, 50],
      spikes: true,
      crashes: [1, 3],
      restartAfterMs: fc.option(fc.integer({ min: 0, max: 1500 }), { freq: 4 }),
      partitions: true,
      lateStarts: true,
    }),
  },
  {
    name: "a new life that accepts its old life's messages (acceptOldLife)",
    mode: "fifo",
    unsafe: { acceptOldLife: true },
    checker: "integrity",
    // a sender dies mid-burst and restarts at once, its old frames still in flight
    scenarios: aimed({
      nodes: [3, 5],
      drop: [0, 30],
      spikes: true,
      crashes: [2, 3],
      restartAfterMs: fc.integer({ min: 0, max: 300 }),
      partitions: false,
      lateStarts: false,
    }),
  },
];
