import { describe, expect, it } from "vitest";
import { RtoEstimator } from "../../src/core/rto.js";

describe("RFC 6298 retransmission timeout", () => {
  it("uses the initial value before any sample", () => {
    expect(new RtoEstimator(200, 10, 2000).rto).toBe(200);
  });
  it("first sample: SRTT = R, RTTVAR = R/2, RTO = SRTT + 4 RTTVAR", () => {
    const r = new RtoEstimator(200, 1, 10_000);
    r.sample(100);
    expect(r.smoothedRtt).toBe(100);
    expect(r.rto).toBe(300);
  });
  it("later samples smooth with alpha 1/8 and beta 1/4", () => {
    const r = new RtoEstimator(200, 1, 10_000);
    r.sample(100);
    r.sample(200);
    // RTTVAR = 3/4*50 + 1/4*100 = 62.5; SRTT = 7/8*100 + 1/8*200 = 112.5
    expect(r.smoothedRtt).toBeCloseTo(112.5);
    expect(r.rto).toBeCloseTo(112.5 + 250);
  });
  it("backs off exponentially up to the cap and resets on a new sample", () => {
    const r = new RtoEstimator(100, 10, 1000);
    r.onTimeout();
    expect(r.rto).toBe(200);
    r.onTimeout();
    r.onTimeout();
    expect(r.rto).toBe(800);
    r.onTimeout();
    r.onTimeout();
    expect(r.rto).toBe(1000);
    r.sample(4);
    expect(r.rto).toBe(12);
  });
  it("never goes below the minimum", () => {
    const r = new RtoEstimator(100, 10, 1000);
    r.sample(0.1);
    expect(r.rto).toBe(10);
  });
  it("waits about two round trips for an answer, the timeout before a sample or when backing off", () => {
    const r = new RtoEstimator(100, 10, 1000);
    expect(r.answerWait).toBe(100);
    r.sample(0.5);
    expect(r.rto).toBe(10);
    expect(r.answerWait).toBe(2); // 2 × 0.5 + 1 ms, below the 10 ms floor of the timeout
    r.sample(0.5);
    r.onTimeout();
    expect(r.answerWait).toBe(r.rto); // backing off: the path does not answer
    expect(r.answerWait).toBe(10);
    for (let i = 0; i < 50; i++) r.sample(40); // steady: RTTVAR decays, RTO nears SRTT + 1
    expect(r.rto).toBeLessThan(2 * 40);
    expect(r.answerWait).toBe(r.rto); // never more than the timeout
  });
});
