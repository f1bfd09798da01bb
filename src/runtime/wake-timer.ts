/**
 * The one timer of a node's UDP shell: it wakes the node at the core's next deadline
 * (RmNode.nextWake), asked again after every flush.
 *
 * A timer armed to fire a little earlier than needed stays: firing early is harmless (the
 * core's tick acts only on what is due, and the flush after it arms again), and under load,
 * where every ack moves the deadline a few ms later, it saves a clearTimeout and a setTimeout
 * per flush. A timer that would fire much too early is moved: idle, each of the leader's
 * rounds moves a follower's deadline a whole round later, and keeping the old timer would run
 * a tick and a flush for nothing once a round. (Node still wakes the process at the old
 * instant, since it does not reprogram its event-loop timer on clearTimeout, but that wake
 * runs none of our code.)
 */

/** How much earlier than needed an armed timer may fire and still be kept, ms. */
export const EARLY_TIMER_SLACK_MS = 20;

/** Whether a timer armed for `armedAt` can stay when the deadline is now `at`. */
export function keepsArmed(armedAt: number | undefined, at: number | undefined): boolean {
  return (
    armedAt !== undefined &&
    at !== undefined &&
    armedAt <= at &&
    at - armedAt <= EARLY_TIMER_SLACK_MS
  );
}

/** setTimeout and clearTimeout (replaced in tests). */
export interface TimerApi {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

const NODE_TIMERS: TimerApi = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (h) => clearTimeout(h as NodeJS.Timeout),
};

export class WakeTimer {
  private handle: unknown;
  private armedAt: number | undefined;

  constructor(
    private readonly onFire: () => void,
    private readonly timers: TimerApi = NODE_TIMERS,
  ) {}

  /** Wake at `at` (monotonic ms; undefined: nothing due), `now` being the current instant. */
  arm(at: number | undefined, now: number): void {
    if (at === this.armedAt) return;
    if (this.handle !== undefined && keepsArmed(this.armedAt, at)) return;
    this.stop();
    if (at === undefined) return;
    this.armedAt = at;
    this.handle = this.timers.set(
      () => {
        this.handle = undefined;
        this.armedAt = undefined;
        this.onFire();
      },
      Math.ceil(Math.max(0, at - now)),
    );
  }

  stop(): void {
    if (this.handle !== undefined) this.timers.clear(this.handle);
    this.handle = undefined;
    this.armedAt = undefined;
  }
}
