import { describe, expect, it } from "vitest";
import type { RunResult } from "../../src/bench/coordinator.js";
import { Histogram } from "../../src/bench/histogram.js";
import type { NodeResult } from "../../src/bench/protocol.js";
import { formatReport, okCell } from "../../src/bench/report.js";
import { aggregate, runMetrics } from "../../src/bench/stats.js";
import { runScale, runTargets } from "../../src/bench/suite.js";
import { type WorkloadSpec, warmupPlan } from "../../src/bench/workloads.js";
import { DEFAULT_LIMITS } from "../../src/core/types.js";

// The figures and verdicts of `rmchat bench`'s targets, computed from made-up node results:
// no process, no timing. Speeds below are inputs, not measurements.

const base: WorkloadSpec = {
  workload: "burst",
  nodes: 4,
  count: 200,
  rate: 100,
  duration: 10,
  ordering: "causal",
  delay: 0,
  drop: 0,
  size: 100,
  down: 0,
  warmup: false,
  limits: DEFAULT_LIMITS,
};

function node(id: number, over: Partial<NodeResult> = {}): NodeResult {
  return {
    id,
    sent: 100,
    refused: 0,
    delivered: 400,
    perSender: [100, 100, 100, 100],
    firstDeliveryAt: 1001,
    lastDeliveryAt: 2000,
    sendDoneAt: 1500,
    latency: new Histogram().toData(),
    violations: 0,
    violationSamples: [],
    chainInversions: 0,
    orderHash: "0",
    datagramsSent: 100,
    datagramsReceived: 100,
    bytesSent: 10_000,
    retransmissions: 0,
    fastRetransmissions: 0,
    duplicates: 0,
    faultDrops: 0,
    faultDroppedEntries: 0,
    sendErrors: 0,
    dropped: {},
    unacked: 0,
    outOfOrder: 0,
    heldBack: 0,
    cpuUserUs: 30_000,
    cpuSystemUs: 10_000,
    maxRssKb: 100 * 1024,
    memory: [[0.5, 100 * 1024 * 1024, 1]],
    sharedProcess: false,
    leaderTerms: [],
    leaderLost: 0,
    falseDead: 0,
    deadVerdicts: 0,
    downDeadAt: [],
    rejoins: 0,
    ...over,
  };
}

function result(spec: WorkloadSpec, nodes: NodeResult[], over: Partial<RunResult> = {}): RunResult {
  return {
    spec,
    complete: true,
    timedOut: false,
    verified: true,
    problems: [],
    goAt: 1000,
    killAt: 0,
    kernelDrops: 0,
    wallMs: 1000,
    expected: [100, 100, 100, 100],
    nodes,
    ...over,
  };
}

describe("bench warm-up runs", () => {
  it("keep the workload's loss, so the repair paths are compiled before the measured runs", () => {
    const w = warmupPlan({ ...base, workload: "paced", drop: 0.1, delay: 0.05, down: 1 }, 3);
    expect(w.runs).toBe(3);
    expect(w.spec.drop).toBe(0.1);
    expect(w.spec.workload).toBe("burst");
    // A delay only adds waiting, and a dead member only its own cost: neither is warmed.
    expect(w.spec.delay).toBe(0);
    expect(w.spec.down).toBe(0);
  });

  it("give every process the same deliveries at any group size (one run above 8 nodes)", () => {
    const perProcess = (n: number, asked: number) => {
      const w = warmupPlan({ ...base, nodes: n }, asked);
      return w.runs * w.spec.count * n;
    };
    expect(warmupPlan({ ...base, nodes: 4 }, 3).spec.count).toBe(5000);
    for (const n of [4, 8, 16, 32]) expect(perProcess(n, 3)).toBe(60_000);
    expect(warmupPlan({ ...base, nodes: 16 }, 3)).toMatchObject({ runs: 1, spec: { count: 3750 } });
    expect(warmupPlan({ ...base, nodes: 32 }, 1).spec.count).toBe(625);
    expect(warmupPlan({ ...base, nodes: 16 }, 0).runs).toBe(0);
  });
});

describe("bench row figures", () => {
  it("resends per lost message, leader changes, false dead, CPU per delivery, group rate", () => {
    const spec = { ...base, drop: 0.1 };
    const m = runMetrics(
      result(spec, [
        node(0, {
          // As RmNode.stats() counts them: every resend, the 5 fast retransmissions included.
          retransmissions: 15,
          fastRetransmissions: 5,
          faultDrops: 4,
          faultDroppedEntries: 10,
          leaderTerms: [3],
          falseDead: 1,
        }),
        node(1, {
          retransmissions: 5,
          faultDrops: 1,
          faultDroppedEntries: 10,
          leaderTerms: [3, 4],
        }),
      ]),
    );
    expect(m.resends).toBe(20);
    // The `retrans` column: timer and probe resends only.
    expect(m.retransmissions).toBe(15);
    expect(m.lostEntries).toBe(20);
    expect(m.resendsPerLost).toBe(1);
    // Terms are counted once across nodes: two elections (3 and 4), not three.
    expect(m.leaderChanges).toBe(2);
    expect(m.falseDead).toBe(1);
    // 2 nodes × 40 ms CPU for 800 deliveries.
    expect(m.cpuUsPerDelivery).toBe(100);
    // 800 deliveries from the start instant (1000) to the last one (2000).
    expect(m.groupPerSec).toBe(800);
    expect(m.runPeakRssMb).toBe(100);
  });

  it("no loss, no ratio: resends per lost is undefined at drop 0", () => {
    const m = runMetrics(result(base, [node(0, { retransmissions: 3 })]));
    expect(m.resendsPerLost).toBeNaN();
  });

  it("a killed node's detection time counts from the kill to the last verdict", () => {
    const spec = { ...base, down: 1 };
    const m = runMetrics(
      result(spec, [node(0, { downDeadAt: [1700] }), node(1, { downDeadAt: [1900] })], {
        killAt: 1000,
      }),
    );
    expect(m.detectMs).toBe(900);
    const never = runMetrics(
      result(spec, [node(0, { downDeadAt: [1700] }), node(1)], { killAt: 1000 }),
    );
    expect(never.detectMs).toBe(Number.POSITIVE_INFINITY);
  });

  it("membership trouble is the worst run's, not the median", () => {
    const a = aggregate([
      result(base, [node(0)]),
      result(base, [node(0, { falseDead: 7, leaderTerms: [9] })]),
      result(base, [node(0)]),
    ]);
    expect(a.median.falseDead).toBe(7);
    expect(a.median.leaderChanges).toBe(1);
  });

  it("a run past its deadline reads 'timed out'; a crash 'INCOMPLETE'", () => {
    const t = aggregate([result(base, [node(0)], { complete: false, timedOut: true })]);
    expect(okCell(t.median)).toBe("timed out");
    const c = aggregate([result(base, [node(0)], { complete: false, timedOut: false })]);
    expect(okCell(c.median)).toBe("INCOMPLETE");
    expect(okCell(aggregate([result(base, [node(0)])]).median)).toBe("yes");
  });
});

/**
 * A fake `exec`: every row at 4 nodes delivers at `perNode` msg/s per node; total order at
 * `totalFactor` of that; a 16-node row delivers `scale16` × the 4-node group's rate.
 */
function fakeExec(o: { totalFactor: number; scale16: number; falseDead?: number }) {
  return async (spec: WorkloadSpec, _runs?: number) => {
    const n = spec.nodes;
    const live = n - spec.down;
    let groupRate = 40_000 * (spec.ordering === "total" ? o.totalFactor : 1);
    if (n === 16) groupRate *= o.scale16;
    const delivered = 1000;
    const spanMs = (1000 * delivered * live) / groupRate;
    const nodes = Array.from({ length: live }, (_, i) =>
      node(i, {
        delivered,
        perSender: new Array(n).fill(delivered / n),
        lastDeliveryAt: 1000 + spanMs,
        falseDead: i === 0 && spec.drop === 0 ? (o.falseDead ?? 0) : 0,
        downDeadAt: spec.down > 0 ? [1500] : [],
        faultDroppedEntries: spec.drop > 0 ? 10 : 0,
        fastRetransmissions: spec.drop > 0 ? 10 : 0,
      }),
    );
    return aggregate([
      result(spec, nodes, {
        expected: new Array(n).fill(delivered / n),
        killAt: spec.down > 0 ? 1000 : 0,
      }),
    ]);
  };
}

describe("bench --suite targets verdicts", () => {
  const opts = {
    base,
    runs: 1,
    memoryDuration: 1,
    scaleNodes: [2, 4, 16],
    baseline: {
      rttP50Us: 50,
      rttP99Us: 100,
      floodDatagramsPerSec: 100_000,
      floodPackedMsgsPerSec: 100_000,
      size: 100,
    },
  };

  it("prints one line per target 0..9 with figure and verdict", async () => {
    const r = await runTargets(opts, fakeExec({ totalFactor: 0.9, scale16: 0.85 }));
    expect(r.targets.map((t) => t.id)).toEqual(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);
    const by = (id: string) => r.targets.find((t) => t.id === id);
    expect(by("1")).toMatchObject({ met: true });
    expect(by("1")?.measured).toMatch(/^0\.90× \(total /);
    expect(by("5")).toMatchObject({ met: true });
    expect(by("5")?.measured).toMatch(/causal 0\.85× .* total 0\.85×/);
    expect(by("7")).toMatchObject({ met: true });
    expect(by("7")?.measured).toMatch(/dead after 500 ms/);
    // Without edges, simulator or the original, those targets say why they are not judged.
    expect(by("6")).toMatchObject({ met: false, measured: "not measured (--sim-runs 0)" });
    expect(by("8")).toMatchObject({ met: false });
    expect(by("9")).toMatchObject({ met: false, measured: "not measured (needs --python DIR)" });
    const text = formatReport({
      machine: { cpu: "x", cores: 2, memoryGb: 1, kernel: "k", node: "v", loadAtStart: 0 },
      command: "rmchat bench --suite targets",
      baseline: undefined,
      rows: r.rows,
      targets: r.targets,
    });
    expect(text).toMatch(/^\s+met\s+1\. burst 4×5000 drop 0: total ≥ 0\.8 × causal/m);
    expect(text).toMatch(/^\s+MISSED\s+9\. Python original/m);
    for (const col of ["group/s", "µs/dlv", "rtx/lost", "leader±", "false dead", "kdrop"]) {
      expect(text).toContain(col);
    }
  });

  it("misses targets 1, 5 and 7 when the figures fall short (negative control)", async () => {
    const r = await runTargets(opts, fakeExec({ totalFactor: 0.5, scale16: 0.5, falseDead: 2 }));
    const by = (id: string) => r.targets.find((t) => t.id === id);
    expect(by("1")).toMatchObject({ met: false });
    expect(by("5")).toMatchObject({ met: false });
    expect(by("7")).toMatchObject({ met: false });
    expect(by("7")?.measured).toMatch(/worst: 0 leader changes, 2 false dead/);
  });

  it("--suite scale runs causal and total at each node count and judges 16 against 4", async () => {
    const seen: string[] = [];
    const exec = fakeExec({ totalFactor: 1, scale16: 0.79 });
    const r = await runScale({ ...opts, scaleNodes: [4, 16] }, async (spec, runs) => {
      seen.push(`${spec.nodes}/${spec.ordering}`);
      return exec(spec, runs);
    });
    expect(seen).toEqual(["4/causal", "4/total", "16/causal", "16/total"]);
    expect(r.targets[0]).toMatchObject({ id: "5", met: false });
    expect(r.targets[0]?.target).toMatch(/at 16 nodes ≥ 0\.8 × at 4 nodes/);
  });

  it("--suite scale skips larger groups of an ordering once one timed out", async () => {
    const seen: string[] = [];
    const exec = fakeExec({ totalFactor: 1, scale16: 1 });
    const r = await runScale({ ...opts, scaleNodes: [32, 4, 16] }, async (spec, runs) => {
      seen.push(`${spec.nodes}/${spec.ordering}`);
      if (spec.nodes === 16 && spec.ordering === "total") {
        return aggregate([result(spec, [node(0)], { complete: false, timedOut: true })]);
      }
      return exec(spec, runs);
    });
    expect(seen).toEqual(["4/causal", "4/total", "16/causal", "16/total", "32/causal"]);
    const row = (n: number, o: string) =>
      r.rows.find((a) => a.spec.nodes === n && a.spec.ordering === o);
    expect(okCell((row(16, "total") as ReturnType<typeof aggregate>).median)).toBe("timed out");
    expect(okCell((row(32, "total") as ReturnType<typeof aggregate>).median)).toBe("skipped");
    expect(row(32, "total")?.problems).toEqual(["run 1: skipped: the 16-node total row timed out"]);
    expect(r.targets[0]).toMatchObject({ id: "5", met: false });
    expect(r.targets[0]?.measured).toMatch(/total timed out at 16 nodes/);
  });
});

describe("kernel drops", () => {
  it("reads the UDP receive-buffer overflow counter of /proc/net/snmp on Linux", async () => {
    const { rcvbufErrors } = await import("../../src/bench/coordinator.js");
    const v = rcvbufErrors();
    if (process.platform === "linux") expect(Number.isInteger(v) && v >= 0).toBe(true);
    else expect(Number.isNaN(v)).toBe(true);
  });
});
