import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { RecvChannel } from "../../src/core/recv-channel.js";
import { SendChannel } from "../../src/core/send-channel.js";
import { DEFAULT_LIMITS } from "../../src/core/types.js";
import { FLAG_MORE } from "../../src/core/wire.js";

const limits = { ...DEFAULT_LIMITS, window: 8, maxBacklog: 20, rtoInitialMs: 100, rtoMinMs: 10 };
const b = (...xs: number[]) => new Uint8Array(xs);

describe("RecvChannel", () => {
  it("delivers in order, buffers out of order, suppresses duplicates, sacks gaps", () => {
    const r = new RecvChannel(limits);
    const out: Uint8Array[] = [];
    expect(r.receive(2, 0, b(2), out)).toBe("new");
    expect(r.receive(4, 0, b(4), out)).toBe("new");
    expect(out).toHaveLength(0);
    expect(r.ack()).toEqual({
      echo: 0,
      cum: 0,
      sacks: [
        [2, 2],
        [4, 4],
      ],
    });
    r.receive(1, 0, b(1), out);
    expect(out.map((x) => x[0])).toEqual([1, 2]);
    expect(r.receive(2, 0, b(2), out)).toBe("duplicate");
    expect(r.receive(4, 0, b(4), out)).toBe("duplicate");
    expect(r.ack()).toEqual({ echo: 0, cum: 2, sacks: [[4, 4]] });
    expect(r.receive(100, 0, b(9), out)).toBe("out-of-window");
    r.receive(3, 0, b(3), out);
    expect(out.map((x) => x[0])).toEqual([1, 2, 3, 4]);
    expect(r.buffered).toBe(0);
  });

  it("sacks the first 16 runs held above the cumulative ack, as sorting what it holds would", () => {
    const wide = { ...limits, window: 200 };
    // Reference: every held number above cum, sorted, cut into maximal runs, the first 16.
    const reference = (cum: number, held: Set<number>): Array<[number, number]> => {
      const runs: Array<[number, number]> = [];
      for (const k of [...held].filter((x) => x > cum).sort((x, y) => x - y)) {
        const last = runs[runs.length - 1];
        if (last && k === last[1] + 1) last[1] = k;
        else runs.push([k, k]);
      }
      return runs.slice(0, 16);
    };
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 260 }), { maxLength: 300 }), (seqs) => {
        const r = new RecvChannel(wide);
        const held = new Set<number>();
        const out: Uint8Array[] = [];
        for (const s of seqs) {
          if (r.receive(s, 0, b(1), out) === "new") held.add(s);
          const a = r.ack();
          expect(a.sacks).toEqual(reference(a.cum, held));
          expect(r.ack()).toEqual(a); // asked again with nothing new: the same answer
        }
      }),
      { numRuns: 300 },
    );
  });

  it("echoes the highest frame number and acks at once when a frame's top shows a gap (NAK)", () => {
    const r = new RecvChannel(limits);
    const out: Uint8Array[] = [];
    r.receive(1, 0, b(1), out);
    r.noteFrame(1, 1);
    r.ackPending = false;
    r.noteFrame(3, 4); // an ack-only frame: the sender sent up to 4, we hold 1
    expect(r.ackPending).toBe(true);
    expect(r.ack().echo).toBe(3);
    r.ackPending = false;
    r.noteFrame(2, 4); // older frame, same top: no news, no ack, echo stays
    r.noteFrame(4, 4);
    expect(r.ackPending).toBe(false);
    expect(r.ack().echo).toBe(4);
    r.receive(3, 0, b(3), out);
    r.ackPending = false;
    r.noteFrame(5, 3); // top held out of order: the sack already told the sender
    expect(r.ackPending).toBe(false);
    r.receive(2, 0, b(2), out);
    r.receive(4, 0, b(4), out);
    r.ackPending = false;
    r.noteFrame(6, 4); // nothing missing
    expect(r.ackPending).toBe(false);
    r.reset();
    expect(r.ack().echo).toBe(0);
  });

  it("keeps the echo below a frame whose entries flow control refused, until entries are taken again", () => {
    const r = new RecvChannel(limits);
    const out: Uint8Array[] = [];
    r.receive(1, 0, b(1), out);
    r.noteFrame(1, 1, "taken");
    r.noteFrame(2, 2, "refused"); // entry 2 not taken: not lost, not to be resent at once
    r.noteFrame(3, 2, "none"); // a later ack-only frame
    expect(r.ack().echo).toBe(1);
    r.noteFrame(4, 3, "taken"); // taking again: the echo may show the gap
    expect(r.ack().echo).toBe(4);
  });

  it("reassembles fragments and discards a message over the size limit", () => {
    const r = new RecvChannel({ ...limits, maxMessageBytes: 4 });
    const out: Uint8Array[] = [];
    r.receive(1, FLAG_MORE, b(1, 2), out);
    r.receive(2, 0, b(3), out);
    expect(out.map((x) => [...x])).toEqual([[1, 2, 3]]);
    r.receive(3, FLAG_MORE, new Uint8Array(8000), out);
    r.receive(4, FLAG_MORE, new Uint8Array(8000), out);
    r.receive(5, 0, b(1), out);
    r.receive(6, 0, b(7), out);
    expect(out.map((x) => [...x])).toEqual([[1, 2, 3], [7]]);
    expect(r.oversized).toBe(1);
  });
});

describe("SendChannel", () => {
  it("keeps at most `window` entries in flight, the rest in the backlog", () => {
    const s = new SendChannel(limits);
    for (let i = 0; i < 12; i++) s.enqueue(0, b(i), i + 1);
    expect(s.takeDue().map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(s.queued).toBe(12);
    expect(s.hasRoom(8)).toBe(true);
    expect(s.hasRoom(9)).toBe(false);
  });

  it("releases tags on cumulative ack and refills the window", () => {
    const s = new SendChannel(limits);
    for (let i = 0; i < 10; i++) s.enqueue(0, b(i), i + 1);
    for (const e of s.takeDue()) s.sent(e, 0);
    const released: number[] = [];
    s.onAck(5, { echo: 0, cum: 3, sacks: [] }, released);
    expect(released).toEqual([1, 2, 3]);
    expect(s.takeDue().map((e) => e.seq)).toEqual([9, 10]);
    expect(s.queued).toBe(7);
  });

  it("does not release a fragmented message before its last fragment", () => {
    const s = new SendChannel(limits);
    s.enqueue(FLAG_MORE, b(1), 0);
    s.enqueue(0, b(2), 42);
    for (const e of s.takeDue()) s.sent(e, 0);
    const released: number[] = [];
    s.onAck(1, { echo: 0, cum: 1, sacks: [] }, released);
    expect(released).toEqual([]);
    s.onAck(2, { echo: 0, cum: 2, sacks: [] }, released);
    expect(released).toEqual([42]);
  });

  it("retransmits on timeout with exponential backoff, and fast-retransmits a gap a sack reveals", () => {
    const s = new SendChannel(limits);
    for (let i = 0; i < 4; i++) s.enqueue(0, b(i), i + 1);
    for (const e of s.takeDue()) s.sent(e, 0);
    expect(s.deadline()).toBe(100);
    s.onTick(50, 64);
    expect(s.hasDue()).toBe(false);
    s.onTick(100, 64);
    expect(s.takeDue().map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(s.deadline()).toBe(300); // armed at 100, RTO doubled to 200
    // Fresh channel: 1 and 2 sent at t=0, 3 at t=20; the ack of 3 arrives at t=30 with 1 and 2 missing.
    const f = new SendChannel(limits);
    f.enqueue(0, b(1), 1);
    f.enqueue(0, b(2), 2);
    for (const e of f.takeDue()) f.sent(e, 0);
    f.enqueue(0, b(3), 3);
    for (const e of f.takeDue()) f.sent(e, 20);
    f.onAck(30, { echo: 0, cum: 0, sacks: [[3, 3]] }, []);
    expect(f.takeDue().map((e) => e.seq)).toEqual([1, 2]);
    expect(f.fastRetransmissions).toBe(2);
  });

  it("once the peer echoes a frame the RTO resends one entry, and a data frame's echo is the first RTT sample", () => {
    // Before, without an RTT sample the RTO resent up to the burst: at 16 nodes under a burst
    // the first cumulative ack came late and every peer resent 64 entries per firing (tens of
    // thousands of spurious retransmissions).
    const s = new SendChannel(limits);
    s.frameSent(0); // a heartbeat: echoed with the peer's next frame, not at once
    s.onAck(40, { echo: 1, cum: 0, sacks: [] }, []);
    expect(s.rto.smoothedRtt).toBeUndefined(); // no sample from a heartbeat's echo
    for (let i = 0; i < 4; i++) s.enqueue(0, b(i), i + 1);
    for (const e of s.takeDue()) s.sent(e, 50);
    s.frameSent(50);
    expect(s.deadline()).toBe(150); // the initial RTO
    s.onTick(150, 64);
    const first = s.takeDue();
    expect(first.map((e) => e.seq)).toEqual([1]); // one entry, not the flight
    for (const e of first) s.sent(e, 150);
    s.frameSent(150); // frame 3 carries the resend
    // Its ack echoes frame 3: an RTT sample (the entry itself is a resend: Karn excludes it),
    // and fast retransmit finds the rest (sent in frame 2, before the echoed frame) lost.
    s.onAck(154, { echo: 3, cum: 1, sacks: [] }, []);
    expect(s.rto.smoothedRtt).toBe(4);
    expect(s.takeDue().map((e) => e.seq)).toEqual([2, 3, 4]);
  });

  it("ignores an ack for data never sent, and takes RTT samples only from first transmissions (Karn)", () => {
    const s = new SendChannel(limits);
    s.enqueue(0, b(1), 1);
    for (const e of s.takeDue()) s.sent(e, 0);
    s.onAck(10, { echo: 0, cum: 5, sacks: [] }, []);
    expect(s.queued).toBe(1);
    s.onTick(100, 64);
    for (const e of s.takeDue()) s.sent(e, 100);
    s.onAck(400, { echo: 0, cum: 1, sacks: [] }, []);
    expect(s.rto.smoothedRtt).toBeUndefined();
    expect(s.queued).toBe(0);
    expect(s.deadline()).toBeUndefined();
  });
});
