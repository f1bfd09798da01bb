import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { Ordering } from "../../src/core/types.js";
import { checkTrace } from "../../src/fuzz/checkers.js";
import { evaluate } from "../../src/fuzz/property.js";
import { runPlan } from "../../src/fuzz/runner.js";
import {
  type CrashStyle,
  type LinkSpec,
  normalize,
  type Scenario,
} from "../../src/fuzz/scenario.js";

/** Counterexamples the fuzzer found, kept as fixed scenarios (they replay without fast-check). */
const still: LinkSpec = {
  dropPct: 0,
  dupPct: 0,
  delayMinMs: 0,
  jitterMs: 0,
  spikePct: 0,
  spikeMs: 50,
};

/**
 * Found by `npm run fuzz -- --mode fifo --seed 2` (shrunk). Node 1 sends to node 0 before it
 * knows node 0's incarnation (toInc 0); one such frame takes a 25..50 ms detour. Node 0 starts,
 * crashes and restarts; the late frame reaches the new life, which took it (toInc 0 was
 * accepted by any life) into its reorder buffer — but node 1 then learned the new life and
 * reset its channel, so the stale entry sat there for good (boundedness) and, once the new
 * stream reached its sequence number, took the place of a new message, which was lost
 * (validity). Fix: data is accepted only when addressed to this very incarnation.
 */
const toIncZero: Scenario = {
  nodes: 2,
  seed: 0,
  limits: { window: 1024, maxBacklog: 100_000, maxDatagram: 1400 },
  user: { delayMs: 0, dropPct: 0 },
  link: still,
  links: [{ from: 1, to: 0, spec: { ...still, spikePct: 1 } }],
  faultEndMs: 100,
  sends: [
    { kind: "burst", at: 0, node: 1, count: 18, gapMs: 0, size: 1 },
    { kind: "all", at: 0, size: 65 },
    { kind: "burst", at: 0, node: 1, count: 13, gapMs: 1, size: 1 },
    { kind: "all", at: 45, size: 877 },
    { kind: "burst", at: 0, node: 0, count: 1, gapMs: 0, size: 1 },
  ],
  partitions: [],
  lateStarts: [{ node: 0, at: 115 }],
  crashes: [{ node: 0, at: 0, restartAfterMs: 1 }],
};

describe("fuzz regressions", () => {
  it("fifo: a restarted node takes no data addressed to no incarnation (boundedness)", () => {
    const plan = normalize("fifo", toIncZero, { crash: "clean" });
    expect(checkTrace("fifo", runPlan(plan).trace)).toEqual([]);
  });
  it("fifo: … nor loses the new message that the stale entry would replace (validity)", () => {
    const more: Scenario = {
      ...toIncZero,
      sends: [
        ...toIncZero.sends,
        { kind: "burst", at: 1000, node: 1, count: 40, gapMs: 1, size: 1 },
      ],
    };
    const { trace } = runPlan(normalize("fifo", more, { crash: "clean" }));
    expect(checkTrace("fifo", trace)).toEqual([]);
    // the whole burst node 1 sent from t=100 on reached node 0 (live or as history)
    // (accepted then; it may have left later, once node 1 was in a view)
    const burst = trace.events.filter((e) => e.kind === "accept" && e.node === 1 && e.t >= 100);
    expect(burst).toHaveLength(40);
    const got = new Set(
      trace.events.flatMap((e) => (e.kind === "deliver" && e.node === 0 ? [e.text] : [])),
    );
    expect(burst.filter((e) => e.kind === "accept" && !got.has(e.text))).toEqual([]);
  });
});

describe("regression: total order log compacted past a node cut off by a partition", () => {
  // Found by `npm run fuzz -- --runs 1000 --seed 4711` (total mode): node 2 partitioned away
  // from t=1, node 1 starting late; once a leader existed the log was compacted before node 2
  // came back, so it joined from the compacted base and never delivered 0#1.
  const cutOff: Scenario = JSON.parse(
    '{"nodes":3,"seed":0,"limits":{"window":1024,"maxBacklog":100000,"maxDatagram":1400},"user":{"delayMs":0,"dropPct":0},"link":{"dropPct":0,"dupPct":0,"delayMinMs":0,"jitterMs":0,"spikePct":0,"spikeMs":50},"links":[],"faultEndMs":911,"sends":[{"kind":"burst","at":0,"node":0,"count":1,"gapMs":1,"size":0}],"partitions":[{"at":1,"lengthMs":894,"side":[2]}],"lateStarts":[{"node":1,"at":873}],"crashes":[]}',
  );
  it("total: the cut-off node delivers everything once it is back (validity, agreement)", () => {
    const { trace } = runPlan(normalize("total", cutOff, { crash: "clean" }));
    expect(checkTrace("total", trace)).toEqual([]);
  });
});

/**
 * The seeds of issue 15, each captured as the exact scenario the fuzzer shrank it to at the
 * time (`npm run fuzz -- <cmd>` printed "scenario (for a regression test)"): scenario
 * generation has changed since, so the seed alone would no longer produce it. `found` is
 * the first failure reported then (by the checkers of that time). Each replays with the
 * current normalisation and every checker of the mode.
 */
interface Regression {
  cmd: string;
  mode: Ordering;
  crash: CrashStyle;
  found: string;
  scenario: Scenario;
}
const ISSUE_15: Regression[] = JSON.parse(
  readFileSync(new URL("./regressions.json", import.meta.url), "utf8"),
);

describe("issue 15 seeds", () => {
  it("are all here", () => {
    expect(ISSUE_15.map((r) => r.cmd)).toEqual([
      "--mode fifo --seed 918273 --path 234",
      "--mode fifo --seed 918273 --path 21",
      "--mode fifo --seed 5550123 --path 679",
      "--mode causal --seed 5550123 --path 204 --crash abrupt",
      "--mode causal --seed 918273 --path 85 --crash abrupt",
      "--mode fifo --seed 777 --runs 2000",
      "--mode fifo --seed 4711 --runs 1000",
      "--mode fifo --seed 4711 --runs 1000 --crash abrupt",
      "--mode total --seed 20261204 --runs 5000",
      "--mode total --seed 20261212 --runs 1000",
      "--mode total --seed 20261215 --runs 3000",
      "--mode fifo --seed 20261217 --runs 5000",
      "--mode fifo --seed 20261218 --runs 4000",
      "--mode total --seed 20261221 --runs 100000",
      "--mode causal --seed 20261312 --runs 3000",
      "--mode total --seed 424242 --path 854 --crash abrupt",
      "--mode total --seed 20261607 --runs 10000",
      "--mode total --seed 20261608 --runs 10000",
      "--mode causal --seed 20261611 --runs 20000",
      "--mode causal --seed 20261612 --runs 10000",
      "--mode fifo --seed 20261611 --runs 20000",
      "--mode total --seed 20261706 --runs 5000",
      "--mode total --seed 20261706 --runs 10000",
      "--mode fifo --seed 20261806 --runs 30000 --crash abrupt",
      "--mode causal --seed 20261806 --runs 30000 --crash abrupt",
      "--mode fifo --seed 20262001 --runs 100000 --crash abrupt",
      "--mode total --seed 20262004 --runs 100000 --crash abrupt",
      "--mode total --seed 20263002 --runs 100000 --crash abrupt",
    ]);
  });
  for (const r of ISSUE_15) {
    it(`npm run fuzz -- ${r.cmd} (found: ${r.found.slice(0, 60)}…)`, () => {
      const { failures } = evaluate(normalize(r.mode, r.scenario, { crash: r.crash }));
      expect(failures).toEqual([]);
    });
  }
});

/**
 * Open bugs: counterexamples the fuzz campaigns found that the current code still fails, and
 * that the code before the campaign that found them failed too (README, "Limits and known
 * gaps"). Each test passes while the scenario still fails; once a fix makes it pass, the test
 * fails: move the scenario to regressions.json.
 */
const KNOWN: Regression[] = JSON.parse(
  readFileSync(new URL("./known-failures.json", import.meta.url), "utf8"),
);

// Empty while no bug is open (vitest refuses a suite without tests).
describe.runIf(KNOWN.length > 0)("known failures (open bugs, README Limits)", () => {
  for (const r of KNOWN) {
    it(`npm run fuzz -- ${r.cmd} still fails (${r.found.slice(0, 60)}…)`, () => {
      const { failures } = evaluate(normalize(r.mode, r.scenario, { crash: r.crash }));
      expect(failures).not.toEqual([]);
    });
  }
});
