import { describe, expect, it } from "vitest";
import { viewText } from "../../src/core/app-message.js";
import { defaultMembership } from "../../src/core/membership/config.js";
import type { Delivery } from "../../src/core/order/layer.js";
import type {
  AppendMsg,
  AppendRespMsg,
  LogEntry,
  LogMsg,
} from "../../src/core/order/log-messages.js";
import { TotalLog } from "../../src/core/order/total-log.js";

/**
 * Two corners of the commit index that fuzz seed 20263002 (total, 6 nodes, a lossy link from
 * the follower to the leader) met together: a stale rejection made the leader send a prefix
 * again, and that append carried a commit index past its own entries; the follower capped it
 * at the append's last entry and its last entry stayed uncommitted for good.
 */

const N = 3;

/** A TotalLog for node `self` with scripted term and leadership; it records what it sends. */
function logFor(self: number, role: { term: number; leader: number | undefined }) {
  const sent: Array<{ to: number; msg: LogMsg }> = [];
  const log = new TotalLog({
    self,
    hostCount: N,
    incarnation: 1,
    cfg: { ...defaultMembership(N), quorum: 2 },
    term: () => role.term,
    isLeader: () => role.leader === self,
    leader: () => role.leader,
    retainLimit: 1000,
    historyUpTo: () => [],
    installView: () => {},
    deliverHistory: () => {},
    rejoin: () => {},
    unsafeCommit: false,
    targetView: () => ({ members: [0, 1, 2], incs: [1, 1, 1] }),
    historyMessages: 10,
    batchBytes: 1000,
    send: (to, msg) => {
      if (msg.kind !== "history") sent.push({ to, msg });
    },
    note: () => {},
    now: () => 0,
    repairAfter: () => 100,
    multicast: () => {},
    observeTerm: () => {},
    observeLeader: () => {},
  });
  return { log, sent };
}

const view: LogEntry = {
  term: 1,
  from: -2,
  inc: 0,
  seq: 0,
  text: viewText({ term: 1, version: 1, members: [0, 1, 2], incs: [1, 1, 1] }),
};
const noop: LogEntry = { term: 1, from: -1, inc: 0, seq: 0, text: "" };
const a: LogEntry = { term: 1, from: 0, inc: 1, seq: 1, text: "a" };

function append(term: number, prevIndex: number, entries: LogEntry[], commit: number): AppendMsg {
  return {
    kind: "append",
    term,
    prevIndex,
    prevTerm: prevIndex === 0 ? 0 : 1,
    commit,
    compact: 0,
    snap: null,
    entries,
  };
}

describe("a follower's commit index", () => {
  it("takes a commit index past an append's entries up to what this leader verified here", () => {
    const { log } = logFor(1, { term: 1, leader: 0 });
    const out: Delivery[] = [];
    log.onAppend(0, append(1, 0, [noop, view, a], 0), out);
    expect(log.commit).toBe(0);
    // The leader sends the prefix again (it took a stale rejection for a real one); by now it
    // has committed 3, and this is the last append it owes us.
    log.onAppend(0, append(1, 0, [noop, view], 3), out);
    expect(log.commit).toBe(3);
    expect(out.map((d) => d.text)).toEqual(["a"]);
  });

  it("but not with an append of a newer term: what an older leader verified may differ", () => {
    const role = { term: 1, leader: 0 as number | undefined };
    const { log } = logFor(1, role);
    const out: Delivery[] = [];
    log.onAppend(0, append(1, 0, [noop, view, a], 0), out);
    // Leader 2 of term 2 holds the same first two entries; its entry 3 may be another one.
    role.term = 2;
    role.leader = 2;
    log.onAppend(2, append(2, 0, [noop, view], 3), out);
    expect(log.commit).toBe(2);
    expect(out).toEqual([]);
  });
});

describe("the leader", () => {
  it("takes a rejection below the follower's match for a stale one (no resend)", () => {
    const role = { term: 1, leader: 0 as number | undefined };
    const { log, sent } = logFor(0, role);
    const out: Delivery[] = [];
    log.sync(out); // becomes leader: no-op and view at 1 and 2, sent to both followers
    log.own(1, "a");
    log.sync(out); // entry 3 goes out behind them, pipelined
    expect(log.lastIndex).toBe(3);
    log.onMatchNote(1, 1, 2);
    log.sync(out);
    sent.length = 0;
    // A late copy of follower 1's answer to an earlier empty append at prevIndex 1.
    const stale: AppendRespMsg = {
      kind: "append-resp",
      term: 1,
      ok: false,
      index: 0,
      reqPrev: 1,
      missing: 0,
    };
    log.onAppendResp(1, stale);
    log.sync(out);
    // Follower 1 matches up to 2 and entry 3 is on its way: nothing is sent to it again.
    expect(sent.filter((s) => s.to === 1 && s.msg.kind === "append")).toEqual([]);
  });
});
