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
  const members: NodeId[] = [leader];
  for (const p of current.members) if (p !== leader && live(p)) members.push(p);
  for (let p = 0; p < hostCount; p++)
    if (p !== leader && live(p) && !members.includes(p)) members.push(p);
  const incs = members.map(incOf);
  if (current.term === term && sameMembers(current, { members, incs })) return undefined;
  return { term, version: current.term === term ? current.version + 1 : 1, members, incs };
}
