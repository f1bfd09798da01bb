import { performance } from "node:perf_hooks";

/**
 * Offset from this process's `performance.now()` to CLOCK_MONOTONIC (ms). Both read the
 * same kernel clock (libuv's uv_hrtime), and CLOCK_MONOTONIC is system-wide on Linux, so
 * `mono()` values taken in different processes on one machine are directly comparable:
 * a send time stamped by one worker can be subtracted from a delivery time in another.
 */
const OFFSET = Number(process.hrtime.bigint()) / 1e6 - performance.now();

/** System-wide monotonic time in ms, sub-microsecond resolution. */
export function mono(): number {
  return performance.now() + OFFSET;
}
