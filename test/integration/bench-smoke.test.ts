import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { CLI } from "../helpers/procs.js";

// Checks only that `rmchat bench` works end to end: real processes, real UDP, every delivery
// verified. No speed is asserted (benchmarks measure speed; tests assert behaviour).
describe("rmchat bench", () => {
  it("runs 3 nodes × 20 messages over loopback and prints a verified table", () => {
    const r = spawnSync(
      process.execPath,
      [CLI, "bench", "--nodes", "3", "--count", "20", "--warmup-runs", "1", "--no-baseline", "-q"],
      { encoding: "utf8", timeout: 90_000 },
    );
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/burst 3×20 causal drop 0, 100 B\s+1\s+yes/);
  });

  it("--keys runs the workload plain and sealed in one run and compares them", () => {
    const r = spawnSync(
      process.execPath,
      [CLI, "bench", "-n", "2", "-c", "20", "--keys", "--warmup-runs", "0", "--no-baseline", "-q"],
      { encoding: "utf8", timeout: 90_000 },
    );
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/burst 2×20 causal drop 0, 100 B\s+1\s+yes/);
    expect(r.stdout).toMatch(/burst 2×20 causal drop 0, 100 B, sealed\s+1\s+yes/);
    expect(r.stdout).toMatch(
      /sealed vs plain, burst 2×20 causal drop 0, 100 B: .* msg\/s\/node = [\d.]+%/,
    );
  });

  it("prints JSON with the baseline and the checks", () => {
    const r = spawnSync(
      process.execPath,
      [CLI, "bench", "-n", "2", "-c", "10", "-o", "total", "--warmup-runs", "0", "--json", "-q"],
      { encoding: "utf8", timeout: 90_000 },
    );
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout) as {
      baseline: { rttP50Us: number } | null;
      rows: Array<{ median: { verified: boolean; complete: boolean; delivered: number } }>;
    };
    expect(report.baseline?.rttP50Us).toBeGreaterThan(0);
    expect(report.rows[0]?.median).toMatchObject({ verified: true, complete: true, delivered: 40 });
  });

  it("refuses a bad flag with one line and exit 2", () => {
    const r = spawnSync(process.execPath, [CLI, "bench", "--nodes", "1"], { encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/--nodes must be/);
  });
});
