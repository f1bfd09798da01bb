import type { NodeId } from "../types.js";

/**
 * A map keyed by a sender's life (node id, incarnation). Two levels of number-keyed maps: no
 * key string is built per message on the hot path, and any incarnation is exact.
 */
export class LifeMap<V> {
  private readonly byNode = new Map<NodeId, Map<number, V>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(from: NodeId, inc: number): V | undefined {
    return this.byNode.get(from)?.get(inc);
  }

  set(from: NodeId, inc: number, v: V): void {
    let m = this.byNode.get(from);
    if (!m) {
      m = new Map();
      this.byNode.set(from, m);
    }
    if (!m.has(inc)) this.count++;
    m.set(inc, v);
  }

  delete(from: NodeId, inc: number): boolean {
    const m = this.byNode.get(from);
    if (!m?.delete(inc)) return false;
    this.count--;
    if (m.size === 0) this.byNode.delete(from);
    return true;
  }

  /** Every (from, inc, value); deleting the current entry while iterating is allowed. */
  *entries(): Generator<[NodeId, number, V]> {
    for (const [from, m] of this.byNode) for (const [inc, v] of m) yield [from, inc, v];
  }

  clear(): void {
    this.byNode.clear();
    this.count = 0;
  }
}
