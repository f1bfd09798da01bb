import { describe, expect, it } from "vitest";
import { RmNode } from "../../src/core/node.js";
import { DEFAULT_LIMITS } from "../../src/core/types.js";
import { decodeFrame } from "../../src/core/wire.js";

/**
 * Retransmission timers judge time like the failure detector (README: Loss repair): a node
 * behind on its own input (acks may wait unread in its socket) resends only once it has
 * caught up, or RTX_MAX_LAG_MS (20 ms) after the deadline at most.
 */
const START = 3000;

function pair(): { a: RmNode; b: RmNode } {
  const make = (id: number) =>
    new RmNode({
      id,
      hostCount: 2,
      incarnation: 100 + id,
      ordering: "fifo",
      limits: DEFAULT_LIMITS,
      random: () => 0.5,
      now: 0,
      reportsCaughtUp: id === 0,
    });
  const a = make(0);
  const b = make(1);
  // Let them meet and form a view, node 0 always caught up.
  for (let t = 0; t < START; t++) {
    for (const n of [a, b]) if ((n.nextWake() ?? Number.POSITIVE_INFINITY) <= t) n.tick(t);
    for (const d of a.drain(t).datagrams) b.receive(t, 0, d.bytes);
    for (const d of b.drain(t).datagrams) a.receive(t, 1, d.bytes);
    a.caughtUp(t, t);
  }
  return { a, b };
}

/** Data entries node 0 sends at `t` (what it resends). */
function dataSent(a: RmNode, t: number): number {
  let n = 0;
  for (const d of a.drain(t).datagrams) {
    const f = decodeFrame(d.bytes, 2);
    if (f.ok) n += f.frame.data.length;
  }
  return n;
}

/** Node 0 sends one message at T, which is lost; returns the node and its resend deadline. */
function lostMessage(): { a: RmNode; due: number } {
  const { a } = pair();
  expect(a.send(T, "x").ok).toBe(true);
  expect(dataSent(a, T)).toBe(1);
  a.caughtUp(T, T);
  const due = a.nextWake() ?? 0;
  expect(due).toBeGreaterThan(T);
  expect(due).toBeLessThan(T + 100); // the retransmission timer, not a heartbeat
  return { a, due };
}

const T = START + 1;

describe("retransmission timers and own lag", () => {
  it("behind on its input, a node holds its resend until it has caught up", () => {
    const { a, due } = lostMessage();
    a.tick(due); // due, but the socket was last read empty at T
    expect(dataSent(a, due)).toBe(0);
    a.caughtUp(due + 1, due + 1); // the socket is read empty: no ack came
    expect(dataSent(a, due + 1)).toBe(1);
  });

  it("stays behind, it resends RTX_MAX_LAG_MS after the deadline anyway", () => {
    const { a, due } = lostMessage();
    a.tick(due + 19);
    expect(dataSent(a, due + 19)).toBe(0);
    a.tick(due + 20);
    expect(dataSent(a, due + 20)).toBe(1);
  });
});
