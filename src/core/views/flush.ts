import type { NodeId } from "../types.js";

/**
 * The view-change flush (fifo/causal), pure parts. The leader proposes a member list; every
 * proposed member stops at once (it sends nothing new and hands on nothing more of the old
 * view) and reports what it has: its installed view, how many messages of each sender of
 * that view it received, and the seq its next own message will carry. The leader then
 * installs the new view with every report attached, and each member computes the same cut
 * from them: per sender of the old view, the most any member of the old view received.
 * Members deliver exactly up to the cut (relays fill the gaps of senders that left), then
 * install. So two members that move from one view to the same next view delivered the same
 * messages in it (extended virtual synchrony).
 */

/** A view's identity: one leader per term authors it, so (term, version) names one member list. */
export interface ViewId {
  term: number;
  version: number;
}

export const sameViewId = (a: ViewId | null, b: ViewId | null): boolean =>
  a === b || (a !== null && b !== null && a.term === b.term && a.version === b.version);

export const newerViewId = (a: ViewId, b: ViewId | null): boolean =>
  b === null || a.term > b.term || (a.term === b.term && a.version > b.version);

/** One member's answer to a flush request. */
export interface FlushReport {
  member: NodeId;
  inc: number;
  /** Its installed view (null: none yet, a new member). */
  old: ViewId | null;
  /** Per sender id: messages of that sender's life in `old` received (own: multicast). */
  recv: number[];
  /** The seq of its next own message (its first in the new view). */
  next: number;
}

export interface InstallPlan {
  /** The old view whose members continue together (null: nobody had one). */
  primary: ViewId | null;
  /** Members of the new view, leader first, in proposal order. */
  members: NodeId[];
  /** Members that had another view: they start over as new lives. */
  rejoin: NodeId[];
}

/**
 * The leader's decision once every proposed member reported: the leader's own old view is
 * the primary one (or, when the leader is new, the newest reported); members that come from
 * any other view are told to rejoin as new lives (one group continues: no member has to
 * reconcile two histories).
 */
export function planInstall(leader: NodeId, reports: FlushReport[]): InstallPlan {
  const own = reports.find((r) => r.member === leader);
  let primary: ViewId | null = own?.old ?? null;
  if (primary === null)
    for (const r of reports) if (r.old && newerViewId(r.old, primary)) primary = r.old;
  const members: NodeId[] = [];
  const rejoin: NodeId[] = [];
  for (const r of reports) {
    if (r.old === null || sameViewId(r.old, primary)) members.push(r.member);
    else rejoin.push(r.member);
  }
  return { primary, members, rejoin };
}

export interface Cut {
  /** Per sender of the old view: the last seq delivered in it. */
  upTo: Map<NodeId, number>;
  /** Per sender: the member that relays what others lack (the first with the whole cut). */
  holder: Map<NodeId, NodeId>;
}

/** The cut of the primary group for the old view's senders (`senders`). */
export function cutOf(reports: FlushReport[], primary: ViewId, senders: readonly NodeId[]): Cut {
  const group = reports.filter((r) => sameViewId(r.old, primary));
  const upTo = new Map<NodeId, number>();
  const holder = new Map<NodeId, NodeId>();
  for (const s of senders) {
    let best = 0;
    let who: NodeId | undefined;
    for (const r of group) {
      const n = r.recv[s] ?? 0;
      if (who === undefined || n > best) {
        best = n;
        who = r.member;
      }
    }
    upTo.set(s, best);
    if (who !== undefined) holder.set(s, who);
  }
  return { upTo, holder };
}

/** What `self` (the holder of sender `s`) must relay: to each member, the seqs it lacks. */
export function relaysFor(
  self: NodeId,
  reports: FlushReport[],
  primary: ViewId,
  cut: Cut,
): Array<{ sender: NodeId; to: NodeId; from: number; upTo: number }> {
  const out: Array<{ sender: NodeId; to: NodeId; from: number; upTo: number }> = [];
  for (const [s, h] of cut.holder) {
    if (h !== self) continue;
    const upTo = cut.upTo.get(s) ?? 0;
    for (const r of reports) {
      if (r.member === self || !sameViewId(r.old, primary)) continue;
      const have = r.recv[s] ?? 0;
      if (have < upTo) out.push({ sender: s, to: r.member, from: have + 1, upTo });
    }
  }
  return out;
}
