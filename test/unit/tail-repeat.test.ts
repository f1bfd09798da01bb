import { describe, expect, it } from "vitest";
import { RecvChannel } from "../../src/core/recv-channel.js";
import { DEFAULT_LIMITS } from "../../src/core/types.js";
import { decodeFrame } from "../../src/core/wire.js";
import { Sim } from "../../src/runtime/sim.js";

const limits = { ...DEFAULT_LIMITS, window: 64, rtoInitialMs: 100, rtoMinMs: 10 };
const b = (x: number) => new Uint8Array([x]);

/**
 * Two nodes over links of fixed delay: 6 ms one way while `slow()` says so, else 1 ms.
 * The datagrams from 0 to 1 are lost while `lose()` says so.
 */
function twoNodes(slow: () => boolean, lose: () => boolean): Sim {
  return new Sim({
    seed: 5,
    hosts: 2,
    ordering: "fifo",
    link: (from, to) => {
      const d = slow() ? 6 : 1;
      return {
        drop: from === 0 && to === 1 && lose() ? 1 : 0,
        duplicate: 0,
        delayMinMs: d,
        delayMaxMs: d,
      };
    },
  });
}

describe("tail repeat: a bare frame after the last entries when the probe would wait long", () => {
  it("a receiver lacking something answers at once when a frame number was skipped", () => {
    const r = new RecvChannel(limits);
    const out: Uint8Array[] = [];
    r.receive(1, 0, b(1), out);
    r.noteFrame(1, 1, "taken");
    r.receive(3, 0, b(3), out); // 2 was lost: the ack with its sack goes out anyway
    r.noteFrame(3, 3, "taken");
    r.ackPending = false;
    // The resend of 2 (frame 4) is lost; the sender's bare frame 5 says top 3, which we hold:
    // only the skipped number shows the loss.
    r.noteFrame(5, 3);
    expect(r.ackPending).toBe(true);
    expect(r.ack().echo).toBe(5);
    r.ackPending = false;
    r.noteFrame(6, 3); // no frame skipped: no news, no ack
    expect(r.ackPending).toBe(false);
    r.receive(2, 0, b(2), out);
    r.noteFrame(7, 3, "taken");
    r.ackPending = false;
    r.noteFrame(9, 3); // a frame skipped, but nothing is missing: no ack
    expect(r.ackPending).toBe(false);
  });

  it("a lost last message is repaired within a few round trips, not after 2·SRTT", () => {
    let slow = true;
    let lose = false;
    const sim = twoNodes(
      () => slow,
      () => lose,
    );
    sim.run(3000);
    // Messages over 6 ms links make the SRTT about 12 ms; then the links get fast (1 ms).
    for (let k = 0; k < 6; k++) {
      sim.send(0, `warm-${k}`);
      sim.run(sim.now + 100);
    }
    slow = false;
    sim.send(0, "warm-fast");
    sim.run(sim.now + 100);
    const frames: Array<{ t: number; entries: number; top: number }> = [];
    sim.tap = (from, to, bytes) => {
      if (from !== 0 || to !== 1) return;
      const f = decodeFrame(bytes, 2);
      if (f.ok) frames.push({ t: sim.now, entries: f.frame.data.length, top: f.frame.top });
    };
    let at: number | undefined;
    sim.onEvent = (n, ev) => {
      if (n === 1 && ev.type === "deliver" && ev.text === "tail") at = sim.now;
    };
    const start = sim.now;
    lose = true;
    sim.send(0, "tail");
    sim.run(start + 0.5); // the frame carrying it is lost
    lose = false;
    sim.run(start + 100);
    // Its gap is answered at once and fast retransmit resends: about 4 ms (bare frame 1 ms,
    // 1 ms to the peer, 1 ms back, the reorder window, 1 ms to the peer again). The probe
    // would have waited at least 2·SRTT, about 20 ms.
    expect(at).toBeDefined();
    expect((at ?? Number.POSITIVE_INFINITY) - start).toBeLessThan(8);
    // It came from the bare frame 1 ms after the data, with the same top.
    const data = frames.find((f) => f.entries > 0);
    const bare = frames.find((f) => data && f.entries === 0 && f.t > data.t);
    expect(bare && data && bare.t - data.t).toBeCloseTo(1, 5);
    expect(bare?.top).toBe(data?.top);
  });
});
