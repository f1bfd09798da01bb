import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { builtNextView, nextView, type View } from "../../src/core/membership/view.js";
import type { NodeId } from "../../src/core/types.js";

/**
 * `nextView` answers "no change" without building the member list (it runs after every
 * input of a leader). `builtNextView` builds the list and compares it, as the rule is stated;
 * both must agree on every input, odd ones included (the leader not first, a member twice,
 * an incarnation list shorter than the member list).
 */
const input = fc.integer({ min: 1, max: 7 }).chain((hosts) =>
  fc.record({
    hosts: fc.constant(hosts),
    members: fc.array(fc.integer({ min: 0, max: hosts - 1 }), { maxLength: hosts + 1 }),
    incs: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: hosts + 1 }),
    leader: fc.integer({ min: 0, max: hosts - 1 }),
    live: fc.array(fc.boolean(), { minLength: hosts, maxLength: hosts }),
    known: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: hosts, maxLength: hosts }),
    viewTerm: fc.integer({ min: 0, max: 2 }),
    term: fc.integer({ min: 0, max: 2 }),
    version: fc.integer({ min: 0, max: 5 }),
  }),
);

describe("nextView", () => {
  it("agrees with building the list and comparing it, on any input", () => {
    fc.assert(
      fc.property(input, (x) => {
        const current: View = {
          term: x.viewTerm,
          version: x.version,
          members: x.members,
          incs: x.incs,
        };
        const live = (p: NodeId): boolean => p === x.leader || x.live[p] === true;
        const incOf = (p: NodeId): number => x.known[p] ?? 0;
        expect(nextView(current, x.leader, x.term, live, incOf, x.hosts)).toEqual(
          builtNextView(current, x.leader, x.term, { live, incOf, hostCount: x.hosts }),
        );
      }),
      { numRuns: 5000 },
    );
  });

  it("sees each kind of change: a member gone, a node new, a new life, the leader moved", () => {
    const live = (p: NodeId): boolean => p !== 3;
    const incOf = (p: NodeId): number => (p === 2 ? 7 : 1);
    const v: View = { term: 1, version: 4, members: [0, 1, 2], incs: [1, 1, 7] };
    expect(nextView(v, 0, 1, live, incOf, 3)).toBeUndefined();
    // Node 2 dies: a new version without it.
    expect(nextView(v, 0, 1, (p) => p !== 2, incOf, 3)?.members).toEqual([0, 1]);
    // Node 3 comes up.
    expect(nextView(v, 0, 1, () => true, incOf, 4)?.members).toEqual([0, 1, 2, 3]);
    // Node 1 restarted: same members, new incarnation.
    expect(nextView(v, 0, 1, live, (p) => (p === 1 ? 2 : incOf(p)), 3)?.incs).toEqual([1, 2, 7]);
    // Another leader (or a new term) always authors a new view.
    expect(nextView(v, 1, 1, live, incOf, 3)?.members).toEqual([1, 0, 2]);
    expect(nextView(v, 0, 2, live, incOf, 3)).toMatchObject({ term: 2, version: 1 });
  });
});
