import { describe, expect, it } from "vitest";
import type { AppMsg } from "../../src/core/app-message.js";
import { defaultMembership } from "../../src/core/membership/config.js";
import type { View } from "../../src/core/membership/view.js";
import type { ModeContext } from "../../src/core/modes/mode.js";
import { DEFAULT_LIMITS, type NodeId } from "../../src/core/types.js";
import { FlushLeader } from "../../src/core/views/flush-leader.js";

/**
 * FlushLeader.lead skips its view check while the membership epoch, the term, the installed
 * view and its own proposal are as they were when it last found nothing to do, and checks
 * again as soon as one of them moves.
 */
function fakeContext(epochs: boolean) {
  const live = new Set<NodeId>([0, 1, 2]);
  const unsure = new Set<NodeId>();
  const state = { epoch: 1, term: 3, liveCalls: 0 };
  const sent: Array<{ to: NodeId; msg: AppMsg }> = [];
  const ctx: ModeContext = {
    self: 0,
    hostCount: 4,
    limits: DEFAULT_LIMITS,
    cfg: defaultMembership(4),
    unsafe: {},
    historyMessages: 0,
    inc: () => 1,
    now: () => 0,
    term: () => state.term,
    isLeader: () => true,
    leader: () => 0,
    live: (p) => {
      state.liveCalls++;
      return live.has(p);
    },
    unsure: (p) => unsure.has(p),
    knownInc: () => 1,
    depart: () => {},
    answerWait: () => 10,
    unicast: (to, msg) => sent.push({ to, msg }),
    stored: () => {},
    noRoom: () => undefined,
    neverFits: () => undefined,
    multicast: () => {},
    ctrl: () => {},
    report: () => {},
    note: () => {},
    deliver: () => {},
    emit: () => {},
    installed: () => {},
    abandon: () => {},
    rejoin: () => {},
    protocolError: () => {},
  };
  if (epochs) ctx.membershipEpoch = () => state.epoch;
  return { ctx, live, unsure, state, sent };
}

const view: View = { term: 3, version: 2, members: [0, 1, 2], incs: [1, 1, 1] };

describe("FlushLeader.lead and the membership epoch", () => {
  it("skips the check while nothing moved, and proposes once a node comes up with a new epoch", () => {
    const { ctx, live, state } = fakeContext(true);
    const leader = new FlushLeader(ctx);
    expect(leader.lead(view)).toBeUndefined();
    const calls = state.liveCalls;
    expect(calls).toBeGreaterThan(0);
    for (let i = 0; i < 10; i++) expect(leader.lead(view)).toBeUndefined();
    expect(state.liveCalls).toBe(calls);
    // Node 3 comes up: the node bumps the epoch with the health change.
    live.add(3);
    state.epoch++;
    expect(leader.lead(view)).toMatchObject({ kind: "flush-req", members: [0, 1, 2, 3] });
  });

  it("checks again on a new term or another installed view, even with the same epoch", () => {
    const { ctx, live } = fakeContext(true);
    const leader = new FlushLeader(ctx);
    expect(leader.lead(view)).toBeUndefined();
    live.add(3);
    // Same epoch (a node that did not report the change would stay silent here)...
    expect(leader.lead(view)).toBeUndefined();
    // ...but a new installed view is looked at.
    const next: View = { ...view, version: 3 };
    expect(leader.lead(next)).toMatchObject({ kind: "flush-req", version: 4 });
    const { ctx: ctx2, live: live2, state: state2 } = fakeContext(true);
    const l2 = new FlushLeader(ctx2);
    expect(l2.lead(view)).toBeUndefined();
    live2.add(3);
    state2.term = 4;
    expect(l2.lead(view)).toMatchObject({ kind: "flush-req", term: 4, version: 1 });
  });

  it("without an epoch from the context, checks after every input", () => {
    const { ctx, live, state } = fakeContext(false);
    const leader = new FlushLeader(ctx);
    expect(leader.lead(view)).toBeUndefined();
    const calls = state.liveCalls;
    expect(leader.lead(view)).toBeUndefined();
    expect(state.liveCalls).toBeGreaterThan(calls);
    live.add(3);
    expect(leader.lead(view)).toMatchObject({ kind: "flush-req" });
  });
});

describe("FlushLeader.lead and members silent past probeAfterMs", () => {
  it("a new leader waits while the old one is silent, then proposes without it once dead", () => {
    // Node 3 led term 3 and went silent; node 0 won term 4 while 3 is still probed (or
    // suspected), not yet declared dead.
    const old: View = { term: 3, version: 1, members: [3, 0, 1, 2], incs: [1, 1, 1, 1] };
    const { ctx, live, unsure, state, sent } = fakeContext(true);
    live.add(3);
    unsure.add(3);
    state.term = 4;
    const leader = new FlushLeader(ctx);
    // No flush-req: the members keep sending in view 3.1 instead of freezing for a proposal
    // that node 3 would never answer.
    expect(leader.lead(old)).toBeUndefined();
    expect(sent).toEqual([]);
    // Declared dead (a health change: a new epoch): the view without it is proposed.
    live.delete(3);
    unsure.delete(3);
    state.epoch++;
    expect(leader.lead(old)).toMatchObject({ kind: "flush-req", term: 4, members: [0, 1, 2] });
  });

  it("a member heard again is proposed with the others, with no new epoch", () => {
    const { ctx, live, unsure } = fakeContext(true);
    live.add(3);
    unsure.add(3);
    const leader = new FlushLeader(ctx);
    expect(leader.lead(view)).toBeUndefined();
    // Heard again while probed: alive before and after, so no health change and no new epoch.
    unsure.delete(3);
    expect(leader.lead(view)).toMatchObject({ kind: "flush-req", members: [0, 1, 2, 3] });
  });

  it("a proposal already out is replaced at once, a silent member or not", () => {
    const { ctx, live, unsure, state } = fakeContext(true);
    live.add(3);
    const leader = new FlushLeader(ctx);
    expect(leader.lead(view)).toMatchObject({ kind: "flush-req", members: [0, 1, 2, 3] });
    // Node 3 dies before it reports, while node 2 is probed: the members are frozen for the
    // proposal already, so the leader proposes the view without 3 now.
    live.delete(3);
    unsure.add(2);
    state.epoch++;
    expect(leader.lead(view)).toMatchObject({ kind: "flush-req", members: [0, 1, 2] });
  });
});
