import { describe, expect, it } from "vitest";
import type { NodeId, Ordering } from "../../src/core/types.js";
import { Sim, type SimOptions } from "../../src/runtime/sim.js";
import { deliveriesByNode, key } from "../helpers/history.js";

const K1 = new Uint8Array(32).fill(0x11);
const K2 = new Uint8Array(32).fill(0x22);

function sealedSim(
  seed: number,
  hosts: number,
  ordering: Ordering,
  keys: (n: NodeId) => Uint8Array[] = () => [K1],
  extra: Partial<SimOptions> = {},
): Sim {
  return new Sim({ seed, hosts, ordering, trust: { keys }, ...extra });
}

/** Every node delivered every sent message exactly once. */
function expectComplete(sim: Sim, nodes: NodeId[]): void {
  const sent = sim.history.filter((e) => e.kind === "send").map((e) => key(e.node, e.seq));
  const per = deliveriesByNode(sim.history, sim.size);
  for (const n of nodes) {
    const got = (per[n] ?? []).map((d) => key(d.from, d.seq));
    expect(got.length, `node ${n}`).toBe(sent.length);
    expect(new Set(got), `node ${n}`).toEqual(new Set(sent));
  }
}

const trustDrops = (sim: Sim, n: NodeId) => ({ ...sim.trustOf(n)?.dropped });

describe("the simulator with keys", () => {
  it("a sealed group delivers everything under loss, and a run replays exactly from its seed", () => {
    const run = () => {
      const sim = sealedSim(7, 4, "causal", () => [K1], {
        faults: { delay: 0.005, drop: 0.2 },
      });
      for (let i = 0; i < 4; i++)
        for (let k = 0; k < 30; k++) sim.at(1500 + k * 5 + i, () => sim.send(i, `m${i}-${k}`));
      sim.run(3000);
      expect(sim.runUntilQuiet(120_000)).toBe(true);
      return sim;
    };
    const a = run();
    expectComplete(a, [0, 1, 2, 3]);
    expect(a.history.filter((e) => e.kind === "send").length).toBe(120);
    for (let n = 0; n < 4; n++) expect(trustDrops(a, n).auth).toBe(0);
    const b = run();
    expect(JSON.stringify(b.history)).toBe(JSON.stringify(a.history));
  });

  it("captured sealed datagrams replayed into a running node and into its next life never reach its core", () => {
    const sim = sealedSim(3, 3, "fifo");
    const captured: Array<{ from: NodeId; bytes: Uint8Array }> = [];
    sim.tap = (from, to, bytes) => {
      if (to === 1) captured.push({ from, bytes });
    };
    for (let k = 0; k < 20; k++) sim.at(1500 + k * 10, () => sim.send(0, `a${k}`));
    sim.run(2000);
    expect(sim.runUntilQuiet(60_000)).toBe(true);
    sim.tap = undefined;
    expectComplete(sim, [0, 1, 2]);
    const node1 = () => sim.node(1);
    const delivered = () => deliveriesByNode(sim.history, 3)[1]?.length ?? 0;

    // Into the running life: every datagram again, and again in reverse order.
    const received = node1()?.stats().datagramsReceived;
    const before = trustDrops(sim, 1);
    const was = delivered();
    for (const c of [...captured, ...[...captured].reverse()]) sim.inject(1, c.from, c.bytes);
    expect(node1()?.stats().datagramsReceived).toBe(received);
    expect(delivered()).toBe(was);
    const after = trustDrops(sim, 1);
    // All but the first datagrams of each sender (unbound before the epochs were exchanged) count as replays.
    expect(
      (after.replay ?? 0) + (after.unbound ?? 0) - (before.replay ?? 0) - (before.unbound ?? 0),
    ).toBe(2 * captured.length);
    expect(after.replay ?? 0).toBeGreaterThan(captured.length);

    // Into a new life of the same node: nothing captured before it reaches the core.
    sim.crash(1);
    sim.start(1);
    for (const c of captured) sim.inject(1, c.from, c.bytes);
    expect(node1()?.stats().datagramsReceived).toBe(0);
    const fresh = trustDrops(sim, 1);
    expect((fresh.replay ?? 0) + (fresh.unbound ?? 0)).toBe(captured.length);
    expect(delivered()).toBe(was);
    // And the new life works: it joins and gets what is sent from now on, once.
    sim.run(sim.now + 3000);
    sim.send(2, "after restart");
    sim.run(sim.now + 100);
    expect(sim.runUntilQuiet(60_000)).toBe(true);
    const last = deliveriesByNode(sim.history, 3)[1] ?? [];
    expect(last.filter((d) => d.text === "after restart").length).toBe(1);
  });

  it("forged, truncated and bit-flipped datagrams injected into a node are dropped and counted", () => {
    const sim = sealedSim(4, 2, "fifo");
    const captured: Uint8Array[] = [];
    sim.tap = (_from, to, bytes) => {
      if (to === 1) captured.push(bytes);
    };
    sim.at(1500, () => sim.send(0, "x"));
    sim.run(2000);
    sim.tap = undefined;
    const c = captured.at(-1) as Uint8Array;
    const received = sim.node(1)?.stats().datagramsReceived;
    const flipped = Uint8Array.from(c);
    flipped[c.length - 3] = (flipped[c.length - 3] as number) ^ 4;
    const forged = Uint8Array.from(c);
    forged.fill(0x5a, 30);
    sim.inject(1, 0, flipped);
    sim.inject(1, 0, forged);
    sim.inject(1, 0, c.subarray(0, c.length - 1));
    sim.inject(1, 0, c.subarray(0, 20));
    expect(trustDrops(sim, 1).auth).toBe(4);
    expect(sim.node(1)?.stats().datagramsReceived).toBe(received);
  });

  it("a node with a stale ring is rejected until the new key is installed, then catches up", () => {
    const sim = sealedSim(5, 3, "fifo", () => [K1]);
    sim.run(1500);
    // Nodes 0 and 1 move to K2 (primary) while node 2 is left behind with K1 only.
    sim.setKeys(0, [K2, K1]);
    sim.setKeys(1, [K2, K1]);
    for (let k = 0; k < 10; k++) sim.at(1600 + k * 20, () => sim.send(0, `s${k}`));
    sim.run(2500);
    const per = () => deliveriesByNode(sim.history, 3);
    expect(per()[1]?.length).toBe(10);
    expect(per()[2]?.length).toBe(0);
    expect(trustDrops(sim, 2).auth).toBeGreaterThan(0);
    sim.setKeys(2, [K2, K1]);
    sim.run(3500);
    expect(sim.runUntilQuiet(60_000)).toBe(true);
    expectComplete(sim, [0, 1, 2]);
  });

  const rotate = (threeSteps: boolean) => {
    const sim = sealedSim(6, 4, "causal", () => [K1], { faults: { delay: 0.002, drop: 0.05 } });
    for (let i = 0; i < 4; i++)
      for (let k = 0; k < 200; k++) sim.at(1500 + k * 25 + i, () => sim.send(i, `r${i}-${k}`));
    // One node at a time, as an operator would; the group keeps sending throughout.
    const steps: Array<(n: NodeId) => void> = threeSteps
      ? [
          (n) => sim.setKeys(n, [K1, K2]),
          (n) => sim.setKeys(n, [K2, K1]),
          (n) => sim.setKeys(n, [K2]),
        ]
      : [(n) => sim.setKeys(n, [K2])];
    steps.forEach((step, s) => {
      for (let n = 0; n < 4; n++) sim.at(2000 + s * 1200 + n * 250, () => step(n));
    });
    sim.run(7000);
    expect(sim.runUntilQuiet(120_000)).toBe(true);
    return sim;
  };

  it("rotation in three steps with a running group loses nothing and rejects nothing", () => {
    const sim = rotate(true);
    expectComplete(sim, [0, 1, 2, 3]);
    expect(sim.history.filter((e) => e.kind === "send").length).toBe(800);
    for (let n = 0; n < 4; n++) expect(trustDrops(sim, n).auth).toBe(0);
    for (let n = 0; n < 4; n++) expect(sim.trustOf(n)?.keyIds().length).toBe(1);
  });

  it("negative control: switching keys in one step rejects datagrams while nodes disagree", () => {
    const sim = rotate(false);
    let auth = 0;
    for (let n = 0; n < 4; n++) auth += trustDrops(sim, n).auth ?? 0;
    expect(auth).toBeGreaterThan(0);
  });

  it("two clusters with different names on one wire: foreign, never delivered", () => {
    // Node 1 belongs to another cluster (same keys): its frames are foreign to 0 and 2.
    const sim = new Sim({ seed: 8, hosts: 3, ordering: "fifo", trust: { keys: () => [] } });
    const other = new Sim({
      seed: 8,
      hosts: 3,
      ordering: "fifo",
      trust: { cluster: "other", keys: () => [] },
    });
    const frames: Uint8Array[] = [];
    other.tap = (from, to, bytes) => {
      if (from === 1 && to === 0) frames.push(bytes);
    };
    other.at(1500, () => other.send(1, "from the other cluster"));
    other.run(2500);
    sim.run(1500);
    const received = sim.node(0)?.stats().datagramsReceived;
    for (const f of frames) sim.inject(0, 1, f);
    expect(frames.length).toBeGreaterThan(0);
    expect(trustDrops(sim, 0).foreign).toBe(frames.length);
    expect(sim.node(0)?.stats().datagramsReceived).toBe(received);
    sim.run(3000);
    expect(
      sim.history.some((e) => e.kind === "deliver" && e.text === "from the other cluster"),
    ).toBe(false);
  });
});
