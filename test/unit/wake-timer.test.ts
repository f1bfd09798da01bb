import { describe, expect, it } from "vitest";
import {
  EARLY_TIMER_SLACK_MS,
  keepsArmed,
  type TimerApi,
  WakeTimer,
} from "../../src/runtime/wake-timer.js";

/** A virtual clock's timers: `run(until)` fires what is due in order. */
function fakeTimers() {
  let now = 0;
  let next = 1;
  const due = new Map<number, { at: number; fn: () => void }>();
  const api: TimerApi = {
    set: (fn, ms) => {
      const id = next++;
      due.set(id, { at: now + ms, fn });
      return id;
    },
    clear: (h) => {
      due.delete(h as number);
    },
  };
  return {
    api,
    get now() {
      return now;
    },
    pending: () => due.size,
    /** Advance to `until`, firing every timer due on the way. */
    run(until: number) {
      for (;;) {
        let first: [number, { at: number; fn: () => void }] | undefined;
        for (const e of due) if (!first || e[1].at < first[1].at) first = e;
        if (!first || first[1].at > until) break;
        due.delete(first[0]);
        now = first[1].at;
        first[1].fn();
      }
      now = until;
    },
  };
}

describe("WakeTimer", () => {
  it("keeps a timer that fires a little early, moves one that fires much too early", () => {
    expect(keepsArmed(100, 100 + EARLY_TIMER_SLACK_MS)).toBe(true);
    expect(keepsArmed(100, 101)).toBe(true);
    expect(keepsArmed(100, 100 + EARLY_TIMER_SLACK_MS + 1)).toBe(false);
    // Later than needed never stays: the node would miss its deadline.
    expect(keepsArmed(100, 99)).toBe(false);
    expect(keepsArmed(undefined, 100)).toBe(false);
    expect(keepsArmed(100, undefined)).toBe(false);
  });

  it("an idle follower's timer does not fire between leader rounds", () => {
    // The follower's deadline is 150 ms after the latest round; a round comes every 100 ms and
    // moves it 100 ms later. Each round's arrival wakes the process anyway (a datagram); the
    // timer must not wake it again in between.
    const t = fakeTimers();
    let fires = 0;
    const w = new WakeTimer(() => fires++, t.api);
    for (let round = 0; round < 50; round++) {
      t.run(round * 100);
      w.arm(round * 100 + 150, t.now);
    }
    t.run(49 * 100 + 1);
    expect(fires).toBe(0);
    // When the rounds stop, the deadline still comes.
    t.run(49 * 100 + 150);
    expect(fires).toBe(1);
  });

  it("under load, deadlines that creep later keep the armed timer (no re-arm per flush)", () => {
    const t = fakeTimers();
    let sets = 0;
    const api: TimerApi = {
      set: (fn, ms) => {
        sets++;
        return t.api.set(fn, ms);
      },
      clear: t.api.clear,
    };
    const w = new WakeTimer(() => {}, api);
    // An RTO deadline 10 ms ahead, moved 0.1 ms later by each of 100 acks within 10 ms.
    for (let i = 0; i < 100; i++) {
      t.run(i * 0.05);
      w.arm(10 + i * 0.1, t.now);
    }
    expect(sets).toBe(1);
  });

  it("an earlier deadline re-arms at once; nothing due stops the timer", () => {
    const t = fakeTimers();
    let fires = 0;
    const w = new WakeTimer(() => fires++, t.api);
    w.arm(100, 0);
    w.arm(30, 0);
    t.run(30);
    expect(fires).toBe(1);
    w.arm(80, t.now);
    w.arm(undefined, t.now);
    expect(t.pending()).toBe(0);
    t.run(200);
    expect(fires).toBe(1);
    w.arm(250, t.now);
    w.stop();
    t.run(300);
    expect(fires).toBe(1);
  });
});
