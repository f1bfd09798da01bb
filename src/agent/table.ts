import type { NodeId } from "../core/types.js";

export interface TableEntry {
  name: string;
  id: NodeId;
  host: string;
}

export interface Epoch {
  term: number;
  version: number;
}

/**
 * The host table of a view: NAME-0 is the leader (a view's first member), then the other
 * members in the view's order (join order; newcomers by id). Derived from the view alone, so
 * two agents that installed the same view number hold the same table: one table per epoch.
 */
export function hostTable(
  name: string,
  members: readonly NodeId[],
  hosts: ReadonlyArray<{ host: string }>,
): TableEntry[] {
  return members.map((id, k) => ({ name: `${name}-${k}`, id, host: hosts[id]?.host ?? "?" }));
}

/** Names must be usable as host names (RFC 1123 labels, leaving room for "-<k>"). */
export function validName(name: string): boolean {
  return /^[A-Za-z0-9]([A-Za-z0-9-]{0,50}[A-Za-z0-9])?$/.test(name);
}
