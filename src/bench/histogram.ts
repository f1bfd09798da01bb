/**
 * A fixed-size log-bucketed latency histogram (about 1% relative precision from 1 µs to
 * 1000 s), so that recording millions of samples costs no memory growth: a 60 s memory run
 * must not be disturbed by its own measurement.
 */
const MIN_MS = 0.001;
const RATIO = 1.01;
const LOG_RATIO = Math.log(RATIO);
const BUCKETS = Math.ceil(Math.log(1e6 / MIN_MS) / LOG_RATIO) + 2;

export interface HistogramData {
  /** Sparse [bucket, count] pairs. */
  buckets: Array<[number, number]>;
  count: number;
  sum: number;
  max: number;
}

export class Histogram {
  private readonly counts = new Uint32Array(BUCKETS);
  count = 0;
  sum = 0;
  max = 0;

  record(ms: number): void {
    const v = Math.max(ms, 0);
    let i = v <= MIN_MS ? 0 : Math.floor(Math.log(v / MIN_MS) / LOG_RATIO) + 1;
    if (i >= BUCKETS) i = BUCKETS - 1;
    this.counts[i] = (this.counts[i] as number) + 1;
    this.count++;
    this.sum += v;
    if (v > this.max) this.max = v;
  }

  /** Value at quantile q in [0, 1] (bucket midpoint; the exact maximum for q = 1). */
  quantile(q: number): number | undefined {
    if (this.count === 0) return undefined;
    if (q >= 1) return this.max;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let acc = 0;
    for (let i = 0; i < BUCKETS; i++) {
      acc += this.counts[i] as number;
      if (acc >= rank) return Math.min(this.max, bucketMid(i));
    }
    return this.max;
  }

  merge(d: HistogramData): void {
    for (const [i, c] of d.buckets) {
      if (i >= 0 && i < BUCKETS) this.counts[i] = (this.counts[i] as number) + c;
    }
    this.count += d.count;
    this.sum += d.sum;
    if (d.max > this.max) this.max = d.max;
  }

  toData(): HistogramData {
    const buckets: Array<[number, number]> = [];
    for (let i = 0; i < BUCKETS; i++) {
      const c = this.counts[i] as number;
      if (c > 0) buckets.push([i, c]);
    }
    return { buckets, count: this.count, sum: this.sum, max: this.max };
  }
}

function bucketMid(i: number): number {
  if (i === 0) return MIN_MS;
  // Bucket i holds [MIN·R^(i-1), MIN·R^i).
  return MIN_MS * RATIO ** (i - 0.5);
}
