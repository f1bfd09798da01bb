/**
 * Retransmission timeout estimator after RFC 6298: SRTT and RTTVAR from samples
 * (the caller applies Karn's rule: no samples from retransmitted entries),
 * exponential backoff on timeout, clamped to [min, max].
 */
export class RtoEstimator {
  private srtt: number | undefined;
  private rttvar = 0;
  private backoff = 1;

  constructor(
    private readonly initialMs: number,
    private readonly minMs: number,
    private readonly maxMs: number,
  ) {}

  /** Clock granularity G of RFC 6298, in ms. */
  static readonly G = 1;

  sample(rttMs: number): void {
    const r = Math.max(0, rttMs);
    if (this.srtt === undefined) {
      this.srtt = r;
      this.rttvar = r / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - r);
      this.srtt = 0.875 * this.srtt + 0.125 * r;
    }
    this.backoff = 1;
  }

  /** Called when new data is acknowledged: the path works again. */
  resetBackoff(): void {
    this.backoff = 1;
  }

  /** Called on a retransmission timeout. */
  onTimeout(): void {
    if (this.base() * this.backoff < this.maxMs) this.backoff *= 2;
  }

  private base(): number {
    if (this.srtt === undefined) return this.initialMs;
    return this.srtt + Math.max(RtoEstimator.G, 4 * this.rttvar);
  }

  /** Current timeout, backoff included, ms. */
  get rto(): number {
    return Math.min(this.maxMs, Math.max(this.minMs, this.base() * this.backoff));
  }

  /**
   * How long the answer to a request the peer answers at once may take before it is presumed
   * lost: twice the smoothed RTT plus the clock granularity, at most the timeout; the timeout
   * itself before the first sample and while backing off (the path does not answer).
   */
  get answerWait(): number {
    const rto = this.rto;
    if (this.srtt === undefined || this.backoff > 1) return rto;
    return Math.min(rto, 2 * this.srtt + RtoEstimator.G);
  }

  get smoothedRtt(): number | undefined {
    return this.srtt;
  }

  /**
   * How long an ack may take before a tail loss probe is worth sending: SRTT plus two mean
   * deviations, without the timeout's floor or backoff (undefined before a sample). On a
   * quiet path that is about SRTT; when acks come late now and then (a busy machine), it
   * grows with them, so the probe does not resend what is only slow.
   */
  get ackOverdue(): number | undefined {
    if (this.srtt === undefined) return undefined;
    return this.srtt + 2 * this.rttvar;
  }
}
