import { describe, expect, it } from "vitest";
import { decodeFrame } from "../../src/core/wire.js";
import { Sim } from "../../src/runtime/sim.js";

/** Frames node 1 sends node 0 in the 10 ms after node 0 sends one message, with their times. */
function acksAfterOneMessage(): Array<{ t: number; cum: number }> {
  const sim = new Sim({ seed: 5, hosts: 2, ordering: "fifo" });
  sim.run(3000);
  const seen: Array<{ t: number; cum: number }> = [];
  const start = sim.now;
  sim.tap = (from, to, bytes) => {
    if (from !== 1 || to !== 0) return;
    const f = decodeFrame(bytes, 2);
    if (f.ok && f.frame.ack) seen.push({ t: sim.now - start, cum: f.frame.ack.cum });
  };
  sim.send(0, "hello");
  sim.run(start + 10);
  return seen;
}

describe("ack repeat", () => {
  it("repeats the ack of new data once, 1 ms later, when no other frame carried it", () => {
    const acks = acksAfterOneMessage();
    // The ack, then its repeat 1 ms later; nothing more (heartbeats are 100 ms apart).
    expect(acks).toHaveLength(2);
    expect(acks[0]?.cum).toBe(acks[1]?.cum);
    expect((acks[1]?.t ?? 0) - (acks[0]?.t ?? 0)).toBeCloseTo(1, 5);
  });
});
