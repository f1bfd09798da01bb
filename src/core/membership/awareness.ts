/**
 * Own stalls (after Lifeguard's local health awareness): a process whose own timers ran late
 * was starved of CPU, and on a shared machine its peers likely were too. Their silence over
 * that time is then weak evidence, so for a while silence is judged as if the clock stood
 * `STALL_FACTOR` times the stall further back. The allowance decays at half the clock's speed:
 * after a stall of S the judgment catches up with the clock 2·STALL_FACTOR·S later. A process
 * that never stalls judges at the clock, as before.
 *
 * The node also moves its silence clocks on by a stall it sees as a gap between two of its
 * events (the detector's `stalled`): that part of the stall is credited against the
 * allowance, so silence from before the stall is judged `STALL_FACTOR` stalls late in all,
 * not one more (total, seed 20261706: a follower dead just before the leader's 1.9 s pause
 * stayed in the view past the checker's quiet period).
 */
export const STALL_FACTOR = 2;

export class OwnStall {
  private allowance = 0;
  private since = 0;

  /**
   * A timer due at `due` ran at `now` (or input was handled then while it was due): a
   * lateness beyond `slackMs` is a stall of ours. `creditedMs`: how much of it the silence
   * clocks were already moved on by (at most the lateness counts).
   */
  observe(now: number, due: number, slackMs: number, capMs: number, creditedMs = 0): void {
    const late = now - due;
    if (!(late > slackMs)) return;
    const a = Math.min(capMs, STALL_FACTOR * late - Math.min(Math.max(0, creditedMs), late));
    if (a > this.extra(now)) {
      this.allowance = a;
      this.since = now;
    }
  }

  /**
   * When the latest stall was observed (its end, as far as we can tell). A peer heard from at
   * or after it was heard after our stall: its silence since is our own observation, judged
   * at the clock (the detector's `freshAfter`).
   */
  get endedAt(): number {
    return this.allowance === 0 ? Number.POSITIVE_INFINITY : this.since;
  }

  /** How far behind the clock silence is judged at `now` (ms, 0 when no recent stall). */
  extra(now: number): number {
    if (this.allowance === 0) return 0;
    const e = this.allowance - (now - this.since) / 2;
    if (e > 0) return e;
    this.allowance = 0;
    return 0;
  }
}
