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
  s.onAck(t + rtt, { echo: 0, cum: 1, sacks: [] }, []);
  return s;
}

describe("loss recovery (RACK, tail loss probe)", () => {
  it("finds a loss inside one flush once an RTT and a reorder window have passed", () => {
    const s = flight(10, 0, 2);
    s.onAck(2, { echo: 0, cum: 3, sacks: [[6, 10]] }, []);
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
    s.onAck(101, { echo: 0, cum: 3, sacks: [] }, []);
    expect(s.takeDue()).toEqual([]);
    expect(s.fastRetransmissions).toBe(0);
  });

  it("probes the tail after two RTTs without progress; the probe's ack reveals the lost tail", () => {
    const s = flight(10, 0, 2);
    s.onAck(2, { echo: 0, cum: 6, sacks: [] }, []); // 7..10 lost (the last datagram), then silence
    expect(s.deadline()).toBe(2 + 4); // probe timeout 2·SRTT after the last progress
    s.onTick(6, 64);
    const probe = s.takeDue();
    expect(probe.map((e) => e.seq)).toEqual([10]);
    for (const e of probe) s.sent(e, 6);
    s.onAck(8, { echo: 0, cum: 6, sacks: [[10, 10]] }, []);
    expect(s.takeDue().map((e) => e.seq)).toEqual([7, 8, 9]);
  });

  it("probes 1 ms after the last progress on a sub-millisecond path", () => {
    const s = flight(10, 0, 0.25); // loopback: SRTT 0.25 ms
    s.onAck(0.5, { echo: 0, cum: 6, sacks: [] }, []);
    // max(1 ms, 2·SRTT, SRTT + 2·RTTVAR): 1 ms (the floor was 2 ms: p99 4.9 ms at drop 0.1).
    expect(s.deadline()).toBeCloseTo(1.5, 9);
    s.onTick(1.5, 64);
    expect(s.takeDue().map((e) => e.seq)).toEqual([10]);
  });

  it("waits SRTT + 2·RTTVAR for an ack when acks have come late now and then", () => {
    const s = flight(10, 0, 1); // SRTT 1, RTTVAR 0.5
    s.onAck(6, { echo: 0, cum: 2, sacks: [] }, []); // entry 2 sent at 0: a 6 ms sample
    // SRTT 0.875 + 0.75 = 1.625, RTTVAR 0.375 + 1.25 = 1.625: SRTT + 2·RTTVAR = 4.875 ms,
    // more than 2·SRTT (3.25 ms): a busy peer's slow ack is not taken for a loss.
    expect(s.deadline()).toBeCloseTo(6 + 4.875, 9);
  });

  it("wants a bare frame after entries (tail repeat) only once the probe timeout reaches 3 ms", () => {
    expect(new SendChannel(limits).tailRepeatWanted()).toBe(false); // no RTT yet
    expect(flight(1, 0, 0.25).tailRepeatWanted()).toBe(false); // probe after 1 ms: it comes as soon
    expect(flight(1, 0, 1).tailRepeatWanted()).toBe(false); // 2 ms
    expect(flight(1, 0, 2).tailRepeatWanted()).toBe(true); // 4 ms
  });

  it("a later frame's echo finds a lost tail at once, without the probe", () => {
    for (const echo of [3, 2]) {
      const s = new SendChannel(limits);
      for (let i = 1; i <= 10; i++) s.enqueue(0, b(i), i);
      const due = s.takeDue();
      for (const e of due.slice(0, 6)) s.sent(e, 0);
      s.frameSent(0); // frame 1: 1..6
      for (const e of due.slice(6)) s.sent(e, 0);
      s.frameSent(0); // frame 2: 7..10, lost
      s.frameSent(1); // frame 3 at t = 1: an ack only, which arrived
      expect(s.top).toBe(10);
      s.onAck(2, { echo, cum: 6, sacks: [] }, []); // SRTT 2
      if (echo === 3) {
        // Frame 3 got through, so frame 2 was lost: resend once out for RACK's RTT (frame
        // 3's round trip, 1 ms) + reorder window (1 ms): at the ack.
        expect(s.takeDue().map((e) => e.seq)).toEqual([7, 8, 9, 10]);
        expect(s.fastRetransmissions).toBe(4);
      } else {
        // Control: without a later frame echoed, nothing proves the loss: the probe is next.
        expect(s.deadline()).toBe(2 + 4);
        s.onTick(3, 64);
        expect(s.takeDue()).toEqual([]);
      }
    }
  });

  it("after a burst, the loss is timed by the latest witness's RTT, not by the SRTT the queues inflated", () => {
    const s = new SendChannel(limits);
    for (let i = 1; i <= 40; i++) s.enqueue(0, b(i), i);
    const due = s.takeDue();
    // A burst: 1..20 queue up and take 30 ms to be acknowledged (SRTT 30).
    for (const e of due.slice(0, 20)) s.sent(e, 0);
    s.frameSent(0);
    s.onAck(30, { echo: 1, cum: 20, sacks: [] }, []);
    // The queues have drained: 21..30 leave in frame 2 (lost), 31..40 in frame 3 at t = 31.
    for (const e of due.slice(20, 30)) s.sent(e, 30);
    s.frameSent(30);
    for (const e of due.slice(30)) s.sent(e, 31);
    s.frameSent(31);
    // Frame 3 is acknowledged 1 ms later: 21..30 are lost once out for 1 ms (RACK's RTT) +
    // 1 ms (reorder window), so at this ack. With the SRTT (26.4 ms after this sample) the
    // wait would be 33 ms.
    s.onAck(32, { echo: 3, cum: 20, sacks: [[31, 40]] }, []);
    expect(s.takeDue().map((e) => e.seq)).toEqual([21, 22, 23, 24, 25, 26, 27, 28, 29, 30]);
  });

  it("a lost retransmission is found by the echo of any later frame", () => {
    const s = new SendChannel(limits);
    for (let i = 1; i <= 3; i++) s.enqueue(0, b(i), i);
    for (const e of s.takeDue()) {
      s.sent(e, 0);
      s.frameSent(0); // frames 1, 2, 3; frame 2 (entry 2) is lost
    }
    s.onAck(2, { echo: 3, cum: 1, sacks: [[3, 3]] }, []);
    s.onTick(3, 64);
    const resent = s.takeDue();
    expect(resent.map((e) => e.seq)).toEqual([2]);
    for (const e of resent) s.sent(e, 3);
    s.frameSent(3); // frame 4: the retransmission, lost too
    s.frameSent(4); // frame 5 at t = 4: an ack only
    expect(s.stillNeeded(resent[0] as never)).toBe(true);
    s.onAck(5, { echo: 5, cum: 1, sacks: [[3, 3]] }, []);
    expect(s.deadline()).toBe(3 + 3); // its last copy's send time + SRTT + reorder window
    s.onTick(6, 64);
    expect(s.takeDue().map((e) => e.seq)).toEqual([2]);
  });

  it("a lost probe is followed by a second one, and only then by the RTO", () => {
    const s = flight(10, 0, 2);
    s.onAck(2, { echo: 0, cum: 6, sacks: [] }, []);
    s.onTick(6, 64); // first probe, 2·SRTT after the last progress
    for (const e of s.takeDue()) s.sent(e, 6);
    expect(s.deadline()).toBe(6 + 4);
    s.onTick(10, 64); // second probe
    const second = s.takeDue();
    expect(second.map((e) => e.seq)).toEqual([10]);
    for (const e of second) s.sent(e, 10);
    // No third probe: the RTO (armed at the last progress, t = 2) comes next.
    expect(s.deadline()).toBe(2 + s.rto.rto);
    expect(s.retransmissions).toBe(2);
  });

  it("presumes nothing lost above the last range of an ack whose sack ranges were cut", () => {
    const s = new SendChannel({ ...limits, window: 128 });
    for (let i = 1; i <= 100; i++) s.enqueue(0, b(i), i);
    for (const e of s.takeDue()) s.sent(e, 0);
    s.frameSent(0);
    s.frameSent(0.5); // frame 2 at t = 0.5, echoed
    s.onAck(1, { echo: 0, cum: 1, sacks: [] }, []);
    // 17 holes (3, 6, …, 51) and the peer holds 52..100 too, but 16 ranges end at 49.
    const sacks: Array<[number, number]> = [];
    for (let k = 0; k < 16; k++) sacks.push([4 + 3 * k, 5 + 3 * k]);
    s.onAck(2, { echo: 2, cum: 2, sacks }, []);
    s.onTick(3, 128);
    const resent = s.takeDue().map((e) => e.seq);
    expect(resent).toEqual([3, 6, 9, 12, 15, 18, 21, 24, 27, 30, 33, 36, 39, 42, 45, 48]);
  });

  it("waits no longer than the RTO for reordering, even with an SRTT inflated across a partition", () => {
    const s = flight(10, 0, 50_000); // one RTT sample of 50 s: SRTT 50 s, the RTO at its cap
    s.onAck(50_000, { echo: 0, cum: 1, sacks: [[6, 10]] }, []);
    // 2..5 left before 6..10 were delivered, 50 s ago: lost after min(SRTT + reorder
    // window, RTO), so at once (uncapped, the wait would be 62.5 s).
    expect(s.rto.rto).toBe(limits.rtoMaxMs);
    expect(s.takeDue().map((e) => e.seq)).toEqual([2, 3, 4, 5]);
  });

  it("an echo above the frames sent (a stale or forged ack) is ignored", () => {
    const s = flight(4, 0, 2);
    s.onAck(3, { echo: 99, cum: 1, sacks: [] }, []);
    s.onTick(4, 64);
    expect(s.takeDue()).toEqual([]);
  });

  it("the RTO resends only the oldest entry once an RTT is known; its ack's echo brings the rest", () => {
    const s = flight(10, 0, 2); // 2..10 in flight in frame 1, SRTT 2
    s.frameSent(0);
    const rtoAt = s.deadline() === 6 ? 2 + s.rto.rto : 0; // probes come first, then the RTO
    s.onTick(rtoAt, 64); // a process stalled past every timer: the RTO
    const due = s.takeDue();
    expect(due.map((e) => e.seq)).toEqual([2]);
    for (const e of due) s.sent(e, rtoAt);
    s.frameSent(rtoAt); // frame 2
    // Its ack echoes frame 2: everything of frame 1 is lost, resent at once.
    s.onAck(rtoAt + 2, { echo: 2, cum: 2, sacks: [] }, []);
    expect(s.takeDue().map((e) => e.seq)).toEqual([3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it("without an RTT the RTO resends up to its burst (no fast retransmit to finish the job)", () => {
    const s = new SendChannel(limits);
    for (let i = 1; i <= 5; i++) s.enqueue(0, b(i), i);
    for (const e of s.takeDue()) s.sent(e, 0);
    s.onTick(100, 3);
    expect(s.takeDue().map((e) => e.seq)).toEqual([1, 2, 3]);
  });

  it("a sack that shows the peer receiving re-arms the timeout (holes are fast retransmit's)", () => {
    const s = flight(10, 0, 2);
    const rto = s.rto.rto;
    expect(s.deadline()).toBe(2 + 4); // the probe
    s.onAck(5, { echo: 0, cum: 1, sacks: [[4, 6]] }, []);
    // 2 and 3 are RACK's (reorder timer); the RTO now counts from t = 5, not t = 2.
    s.onTick(6, 64);
    const fast = s.takeDue();
    expect(fast.map((e) => e.seq)).toEqual([2, 3]);
    for (const e of fast) s.sent(e, 6);
    // No timeout at t = 2 + rto (no backoff): the sack at t = 5 re-armed it.
    s.onTick(2 + rto, 64);
    expect(s.rto.rto).toBe(rto);
  });

  it("without an RTT sample the first timeout is the RTO, as before", () => {
    const s = new SendChannel(limits);
    for (let i = 1; i <= 3; i++) s.enqueue(0, b(i), i);
    for (const e of s.takeDue()) s.sent(e, 0);
    expect(s.deadline()).toBe(100);
  });
});
