import { describe, expect, it } from "vitest";
import { Sim } from "../../src/runtime/sim.js";

/** The fault layer's count of lost data entries: kept by default, off when a run asks. */
describe("Sim countDroppedEntries", () => {
  const run = (count: boolean | undefined) => {
    const sim = new Sim({
      seed: 3,
      hosts: 3,
      ordering: "fifo",
      faults: { delay: 0, drop: 0.3 },
      ...(count === undefined ? {} : { countDroppedEntries: count }),
    });
    for (let k = 0; k < 40; k++) sim.at(500 + k, () => sim.send(k % 3, `m${k}`));
    sim.run(3000);
    const dropped = sim.hosts.reduce((n, h) => n + h.faults.dropped, 0);
    const entries = sim.hosts.reduce((n, h) => n + h.faults.droppedEntries, 0);
    return { dropped, entries, history: JSON.stringify(sim.history) };
  };

  it("counts the entries of lost datagrams by default, and not when turned off; the run is the same", () => {
    const on = run(undefined);
    const off = run(false);
    expect(on.dropped).toBeGreaterThan(10);
    expect(on.entries).toBeGreaterThan(0);
    expect(off.dropped).toBe(on.dropped);
    expect(off.entries).toBe(0);
    expect(off.history).toBe(on.history);
    expect(run(true).entries).toBe(on.entries);
  });
});
