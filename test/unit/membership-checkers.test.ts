import { describe, expect, it } from "vitest";
import { convergence, leaders, leases, views } from "../../src/fuzz/membership-checkers.js";
import type { NodeFinal, Trace, TraceEvent } from "../../src/fuzz/trace.js";

const fin = (node: number, leader: number | undefined, members: number[], term = 2): NodeFinal => ({
  node,
  heldBack: 0,
  unackedToLive: 0,
  outOfOrderFromLive: 0,
  retained: 0,
  leader,
  term,
  view: { term, version: 1, members },
});
const trace = (
  events: TraceEvent[],
  final: NodeFinal[] = [],
  leaseOverlaps: string[] = [],
): Trace => ({
  nodes: 3,
  events,
  final,
  leaseOverlaps,
});
const lead = (t: number, node: number, term: number, leader: number | null): TraceEvent => ({
  kind: "leader",
  t,
  node,
  term,
  leader,
});
const view = (
  node: number,
  term: number,
  version: number,
  members: number[],
  incs: number[] = members.map((m) => 1001 + m),
): TraceEvent => ({
  kind: "view",
  t: 1,
  node,
  term,
  version,
  members,
  incs,
});
const start = (node: number, inc = 1001 + node): TraceEvent => ({ kind: "start", t: 0, node, inc });

describe("membership checkers", () => {
  it("leaders: one self-claimed leader per term", () => {
    expect(leaders(trace([lead(1, 0, 1, 0), lead(2, 1, 1, 0), lead(3, 1, 2, 1)]))).toBeNull();
    expect(leaders(trace([lead(1, 0, 1, 0), lead(2, 1, 1, 1)]))).toMatch(
      /^leaders: nodes 0 and 1 both report themselves leader of term 1/,
    );
  });
  it("views: one member list per view number", () => {
    expect(
      views(trace([view(0, 1, 1, [0, 1]), view(1, 1, 1, [0, 1]), view(1, 1, 2, [0])])),
    ).toBeNull();
    expect(views(trace([view(0, 1, 1, [0, 1]), view(1, 1, 1, [1, 0])]))).toMatch(
      /^views: view 1\.1 is \[0@1001,1@1002\] at node 0 but \[1@1002,0@1001\] at node 1/,
    );
  });
  it("views: the same view number with the same members but other incarnations", () => {
    expect(views(trace([view(0, 1, 1, [0, 1]), view(1, 1, 1, [0, 1], [1001, 2002])]))).toMatch(
      /^views: view 1\.1 is \[0@1001,1@1002\] at node 0 but \[0@1001,1@2002\] at node 1/,
    );
  });
  it("convergence: each live life's last view lists exactly the live lives", () => {
    const fins = [fin(0, 0, [0, 1]), fin(1, 0, [0, 1])];
    const ok = [start(0), start(1), view(0, 2, 1, [0, 1]), view(1, 2, 1, [0, 1])];
    expect(convergence(trace(ok, fins))).toBeNull();
    const restarted = [...ok, { kind: "crash", t: 2, node: 1 } as const, start(1, 2002)];
    expect(convergence(trace([...restarted, view(1, 2, 1, [0, 1])], fins))).toMatch(
      /^convergence: live node 0 \(inc 1001\) ends in view 2\.1 \[0@1001,1@1002\], but the live lives are \[0@1001,1@2002\]/,
    );
    expect(convergence(trace(restarted, fins))).toMatch(/live node 1 \(inc 2002\) never installed/);
  });
  it("convergence: a node that rejoins without end", () => {
    const storm: TraceEvent[] = [start(0), start(1)];
    for (let i = 1; i <= 40; i++) {
      storm.push({ kind: "rejoin", t: i, node: 1, inc: 1002 + i, reason: "excluded" });
    }
    const views = [view(0, 2, 1, [0, 1], [1001, 1042]), view(1, 2, 1, [0, 1], [1001, 1042])];
    const fins = [fin(0, 0, [0, 1]), fin(1, 0, [0, 1])];
    expect(convergence(trace([...storm, ...views], fins))).toMatch(
      /^convergence: node 1 went through 41 lives/,
    );
    expect(convergence(trace([...storm.slice(0, -1), ...views], fins))).toMatch(/ends in view/);
  });
  it("convergence: one leader and one view of exactly the live nodes", () => {
    expect(convergence(trace([], [fin(0, 1, [1, 0]), fin(1, 1, [1, 0])]))).toBeNull();
    expect(convergence(trace([], [fin(0, 1, [1, 0]), fin(1, undefined, [1, 0])]))).toMatch(
      /has no leader/,
    );
    expect(convergence(trace([], [fin(0, 1, [1, 0]), fin(1, 0, [1, 0])]))).toMatch(/follows/);
    expect(convergence(trace([], [fin(0, 1, [1, 0, 2]), fin(1, 1, [1, 0, 2])]))).toMatch(
      /but the live nodes are \[0,1\]/,
    );
  });
  it("leases: two nodes leading with a valid lease at one instant", () => {
    expect(leases(trace([]))).toBeNull();
    expect(leases(trace([], [], ["t=5.0: nodes 0 and 2 both lead with a valid lease"]))).toMatch(
      /^leases: t=5\.0: nodes 0 and 2/,
    );
  });
});
