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
const view = (node: number, term: number, version: number, members: number[]): TraceEvent => ({
  kind: "view",
  t: 1,
  node,
  term,
  version,
  members,
  incs: members.map(() => 1),
});

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
      /^views: view 1\.1 is \[0,1\] at node 0 but \[1,0\] at node 1/,
    );
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
