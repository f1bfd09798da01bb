import type { MsgSeq, NodeId } from "../types.js";

/** One delivered message as state transfer hands it on. */
export interface HistoryEntry {
  from: NodeId;
  inc: number;
  seq: MsgSeq;
  text: string;
  /** Total order: its position. */
  order?: number;
}

/**
 * The group's recent past, for state transfer: the last `capacity` messages this node
 * delivered, in its delivery order (valid for the mode: fifo, causal or total). A new member
 * receives them before anything of its first view. Capacity 0 turns state transfer off.
 */
export class HistoryRing {
  private buf: Array<HistoryEntry | undefined>;
  private head = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    this.buf = new Array<HistoryEntry | undefined>(Math.max(0, capacity)).fill(undefined);
  }

  push(e: HistoryEntry): void {
    if (this.capacity <= 0) return;
    this.buf[(this.head + this.count) % this.capacity] = e;
    if (this.count < this.capacity) this.count++;
    else this.head = (this.head + 1) % this.capacity;
  }

  /** Oldest first; only entries `keep` accepts (total order: up to a log position). */
  entries(keep: (e: HistoryEntry) => boolean = () => true): HistoryEntry[] {
    const out: HistoryEntry[] = [];
    for (let i = 0; i < this.count; i++) {
      const e = this.buf[(this.head + i) % this.capacity] as HistoryEntry;
      if (keep(e)) out.push(e);
    }
    return out;
  }

  clear(): void {
    this.buf.fill(undefined);
    this.head = 0;
    this.count = 0;
  }

  get size(): number {
    return this.count;
  }
}

/** Split entries into chunks of at most `maxBytes` of text (one oversized entry goes alone). */
export function chunkHistory(entries: HistoryEntry[], maxBytes: number): HistoryEntry[][] {
  const out: HistoryEntry[][] = [];
  let cur: HistoryEntry[] = [];
  let size = 0;
  for (const e of entries) {
    const need = e.text.length * 3 + 32;
    if (cur.length > 0 && size + need > maxBytes) {
      out.push(cur);
      cur = [];
      size = 0;
    }
    cur.push(e);
    size += need;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}
