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
    // The columns of issue 10, each with a value in the row (rtx/lost is — at drop 0).
    const lines = r.stdout.split("\n");
    const head = lines.find((l) => l.startsWith("workload")) ?? "";
    const row = lines.find((l) => l.startsWith("burst 3×20")) ?? "";
    const cells = row.slice(head.indexOf("runs")).trim().split(/\s+/);
    // Header cells with a space in them ("done s", "p50 ms", "false dead", "RSS MB") as one word.
    const names = head
      .slice(head.indexOf("runs"))
      .replace(/(done|p50|false|RSS) (s|ms|dead|MB)/g, "$1-$2")
      .split(/\s+/);
    expect(cells).toHaveLength(names.length);
    const cell = (name: string) => cells[names.indexOf(name)];
    expect(cell("group/s")).toMatch(/^[\d.]+k?$/);
    expect(cell("µs/dlv")).toMatch(/^[\d.]+$/);
    expect(cell("rtx/lost")).toBe("—");
    expect(cell("leader±")).toMatch(/^\d+$/);
    expect(cell("false-dead")).toMatch(/^\d+$/);
  });

  it("counts the messages a dropped datagram carried and the resends per lost message", () => {
    const r = spawnSync(
      process.execPath,
      [
        CLI,
        "bench",
        ...["-n", "3", "-c", "100", "--drop", "0.1", "--warmup-runs", "0", "--no-baseline"],
        ...["--json", "-q"],
      ],
      { encoding: "utf8", timeout: 90_000 },
    );
    expect(r.status).toBe(0);
    const m = (JSON.parse(r.stdout) as { rows: Array<{ median: Record<string, number> }> }).rows[0]
      ?.median as Record<string, number>;
    // 300 messages to 2 peers each through a 10% loss: data is lost, and its loss is counted.
    expect(m.faultDrops).toBeGreaterThan(0);
    expect(m.lostEntries).toBeGreaterThan(0);
    expect(m.resendsPerLost).toBeCloseTo((m.resends as number) / (m.lostEntries as number), 9);
    expect(m.cpuUsPerDelivery).toBeGreaterThan(0);
    expect(m.groupPerSec).toBeGreaterThan(0);
    expect(Number.isInteger(m.leaderChanges) && Number.isInteger(m.falseDead)).toBe(true);
  });

  it("--suite scale runs causal and total per node count and prints target 5", () => {
    const r = spawnSync(
      process.execPath,
      [
        CLI,
        "bench",
        ...["--suite", "scale", "--scale-nodes", "4,5", "-c", "20", "--warmup-runs", "0"],
        ...["--no-baseline", "-q"],
      ],
      { encoding: "utf8", timeout: 240_000 },
    );
    expect(r.status).toBe(0);
    for (const n of [4, 5]) {
      for (const o of ["causal", "total"]) {
        expect(r.stdout).toMatch(new RegExp(`burst ${n}×20 ${o} drop 0, 100 B\\s+1\\s+yes`));
      }
    }
    expect(r.stdout).toMatch(
      /^ {2}(met {3}|MISSED) {2}5\. scale: the group's deliveries per second at 5 nodes ≥ 0\.8 × at 4 nodes, causal and total: causal [\d.]+× \([\d.]+k?\/s vs [\d.]+k?\/s\), total [\d.]+× /m,
    );
  }, 250_000);

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

  it("--suite edges runs the edges alone and judges targets 8 and 9", () => {
    const r = spawnSync(
      process.execPath,
      [CLI, "bench", "--suite", "edges", "--lone", "2", "--idle", "0", "--cli-duration", "0"],
      { encoding: "utf8", timeout: 120_000 },
    );
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(
      /rmchat CLI: lone message p50 [\d.]+ ms, p99 [\d.]+ ms \(6 arrivals\); burst 4×200 drop 0\.1: [\d.]+ s/,
    );
    expect(r.stdout).toMatch(/raw UDP chat: lone message p50/);
    expect(r.stdout).toMatch(/ {2}(met {3}|MISSED) {2}8\. edges:/);
    expect(r.stdout).toMatch(/ {2}MISSED {2}9\. Python original: .*needs --python DIR/);
    // The edges alone: no workload rows, no raw ping-pong and flood.
    expect(r.stdout).not.toMatch(/msg\/s\/node|raw UDP \(same run\)/);
  });

  it("refuses a bad flag with one line and exit 2", () => {
    const r = spawnSync(process.execPath, [CLI, "bench", "--nodes", "1"], { encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/--nodes must be/);
  });

  it("refuses --python without the targets suite or without the original in DIR", () => {
    const bad = (args: string[], re: RegExp) => {
      const r = spawnSync(process.execPath, [CLI, "bench", ...args], { encoding: "utf8" });
      expect(r.status).toBe(2);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(re);
    };
    bad(["--python", "."], /--python needs --suite targets/);
    bad(["--suite", "targets", "--python", "."], /not a reliable-multicast-chat checkout/);
    bad(["--suite", "edges", "--python", "."], /not a reliable-multicast-chat checkout/);
    bad(["--suite", "scale", "--scale-nodes", "4,x"], /--scale-nodes must be integers/);
    bad(["--suite", "targets", "--lone", "-1"], /--lone must be/);
  });
});
