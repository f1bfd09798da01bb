import type { NodeId } from "../types.js";

/** A numbered member list. Only the leader of `term` authors views of that term. */
export interface View {
  term: number;
  version: number;
  /** Leader first, then the others in join order. */
  members: NodeId[];
  /** The incarnation of each member (parallel to `members`): a new life is a new member. */
  incs: number[];
}

export const NO_VIEW: View = { term: 0, version: 0, members: [], incs: [] };

/** Does the view hold life `inc` of node `p`? */
export function hasMember(v: View, p: NodeId, inc: number): boolean {
  const i = v.members.indexOf(p);
  return i >= 0 && v.incs[i] === inc;
}

export function sameMembers(a: View, b: { members: NodeId[]; incs: number[] }): boolean {
  return (
    a.members.length === b.members.length &&
    a.members.every((m, i) => b.members[i] === m && b.incs[i] === a.incs[i])
  );
}

export function newerView(a: View, b: View): boolean {
  return a.term > b.term || (a.term === b.term && a.version > b.version);
}

/**
 * The leader's next view: the leader first, then the members of the current view that are
 * still live in their order, then newly live nodes by id. Returns undefined when the
 * member list would not change.
 */
export function nextView(
  current: View,
  leader: NodeId,
  term: number,
  live: (p: NodeId) => boolean,
  incOf: (p: NodeId) => number,
  hostCount: number,
): View | undefined {
  // This runs after every input of a leader: answer "no change" without building the list.
  if (current.term === term && unchanged(current, leader, live, incOf, hostCount)) return undefined;
  return builtNextView(current, leader, term, { live, incOf, hostCount });
}

/** `nextView` by building the list and comparing it, as the rule is stated (its reference). */
export function builtNextView(
  current: View,
  leader: NodeId,
  term: number,
  hosts: { live: (p: NodeId) => boolean; incOf: (p: NodeId) => number; hostCount: number },
): View | undefined {
  const { live, incOf, hostCount } = hosts;
  const members: NodeId[] = [leader];
  for (const p of current.members) if (p !== leader && live(p)) members.push(p);
  for (let p = 0; p < hostCount; p++)
    if (p !== leader && live(p) && !members.includes(p)) members.push(p);
  const incs = members.map(incOf);
  if (current.term === term && sameMembers(current, { members, incs })) return undefined;
  return { term, version: current.term === term ? current.version + 1 : 1, members, incs };
}

/**
 * Would `nextView` build exactly `current`'s member list (same lives, same order)? The same
 * answer as building the list and comparing it with `sameMembers`, without allocating.
 */
function unchanged(
  current: View,
  leader: NodeId,
  live: (p: NodeId) => boolean,
  incOf: (p: NodeId) => number,
  hostCount: number,
): boolean {
  const members = current.members;
  const n = members.length;
  // The list built starts with the leader and keeps every other current member only if live.
  if (n === 0 || members[0] !== leader || current.incs[0] !== incOf(leader)) return false;
  for (let i = 1; i < n; i++) {
    const m = members[i] as NodeId;
    if (m === leader || !live(m) || current.incs[i] !== incOf(m)) return false;
  }
  // Nothing is appended: every live node other than the leader is a member already.
  for (let p = 0; p < hostCount; p++)
    if (p !== leader && live(p) && !members.includes(p)) return false;
  return true;
}
