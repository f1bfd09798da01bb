/**
 * Own stalls (after Lifeguard's local health awareness): a process whose own timers ran late
 * was starved of CPU, and on a shared machine its peers likely were too. Their silence over
 * that time is then weak evidence, so for a while silence is judged as if the clock stood
 * `STALL_FACTOR` times the stall further back. The allowance decays at half the clock's speed:
 * after a stall of S the judgment catches up with the clock 2·STALL_FACTOR·S later. A process
 * that never stalls judges at the clock, as before.
 */
export const STALL_FACTOR = 2;

export class OwnStall {
  private allowance = 0;
  private since = 0;

  /**
   * A timer due at `due` ran at `now` (or input was handled then while it was due): a
   * lateness beyond `slackMs` is a stall of ours.
   */
  observe(now: number, due: number, slackMs: number, capMs: number): void {
    const late = now - due;
    if (!(late > slackMs)) return;
    const a = Math.min(capMs, STALL_FACTOR * late);
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
