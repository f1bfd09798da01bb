import { describe, expect, it } from "vitest";
import { SendChannel } from "../../src/core/send-channel.js";
import { DEFAULT_LIMITS } from "../../src/core/types.js";

const limits = { ...DEFAULT_LIMITS, window: 64, rtoInitialMs: 100, rtoMinMs: 10 };
const b = (x: number) => new Uint8Array([x]);

/** A channel with entries 1..n sent at `t`, and an RTT sample of `rtt` taken from entry 1. */
function flight(n: number, t: number, rtt: number): SendChannel {
  const s = new SendChannel(limits);
  for (let i = 1; i <= n; i++) s.enqueue(0, b(i), i);
  for (const e of s.takeDue()) s.sent(e, t);
  s.onAck(t + rtt, { cum: 1, sacks: [] }, []);
  return s;
}

describe("loss recovery (RACK, tail loss probe)", () => {
  it("finds a loss inside one flush once an RTT and a reorder window have passed", () => {
    const s = flight(10, 0, 2);
    s.onAck(2, { cum: 3, sacks: [[6, 10]] }, []);
    expect(s.takeDue()).toEqual([]); // 4 and 5 may still be on their way
    expect(s.deadline()).toBe(3); // SRTT 2 + reorder window 1 ms after they were sent
    s.onTick(3, 64);
    expect(s.takeDue().map((e) => e.seq)).toEqual([4, 5]);
    expect(s.fastRetransmissions).toBe(2);
  });

  it("an ack for a timer's resend does not make what was sent before it look lost", () => {
    const s = new SendChannel(limits);
    for (let i = 1; i <= 6; i++) s.enqueue(0, b(i), i);
    const due = s.takeDue();
    for (const e of due.slice(0, 3)) s.sent(e, 0);
    for (const e of due.slice(3)) s.sent(e, 50);
    s.onTick(100, 2); // RTO: 1 and 2 resent at t = 100
    for (const e of s.takeDue()) s.sent(e, 100);
    // A late ack for the first copies of 1..3 arrives: 4..6 (sent at 50) are merely in flight.
    s.onAck(101, { cum: 3, sacks: [] }, []);
    expect(s.takeDue()).toEqual([]);
    expect(s.fastRetransmissions).toBe(0);
  });

  it("probes the tail after two RTTs without progress; the probe's ack reveals the lost tail", () => {
    const s = flight(10, 0, 2);
    s.onAck(2, { cum: 6, sacks: [] }, []); // 7..10 lost (the last datagram), then silence
    expect(s.deadline()).toBe(2 + 4); // probe timeout 2·SRTT after the last progress
    s.onTick(6, 64);
    const probe = s.takeDue();
    expect(probe.map((e) => e.seq)).toEqual([10]);
    for (const e of probe) s.sent(e, 6);
    s.onAck(8, { cum: 6, sacks: [[10, 10]] }, []);
    expect(s.takeDue().map((e) => e.seq)).toEqual([7, 8, 9]);
  });

  it("without an RTT sample the first timeout is the RTO, as before", () => {
    const s = new SendChannel(limits);
    for (let i = 1; i <= 3; i++) s.enqueue(0, b(i), i);
    for (const e of s.takeDue()) s.sent(e, 0);
    expect(s.deadline()).toBe(100);
  });
});
