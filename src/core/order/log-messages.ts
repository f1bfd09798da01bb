import type { View } from "../membership/view.js";
import type { HistoryEntry } from "../state/history.js";
import type { MsgSeq, NodeId } from "../types.js";

/**
 * One position of the total order. `from === -1` is a leader's no-op (commits earlier terms);
 * `from === -2` is a view (its text is the view, see `viewText`): applying it installs it.
 */
export interface LogEntry {
  term: number;
  from: NodeId | -1 | -2;
  inc: number;
  seq: MsgSeq;
  text: string;
}

/**
 * Sender → every member: my message. The leader orders it; the others keep the body until
 * an append names its position (the leader sends positions, not bodies, to spare itself
 * N-1 copies of every message). Also sent again to each new leader until it is delivered.
 */
export interface SubmitMsg {
  kind: "submit";
  seq: MsgSeq;
  text: string;
}

/**
 * State transfer with a snapshot: the view in effect at the base, the recent messages before
 * it, and the highest seq ordered per sender life (flat [from, inc, seq]…, so a resubmission
 * of an already ordered message is recognised by a leader that joined from a snapshot).
 */
export interface Snapshot {
  view: View;
  /**
   * The log position of `view`'s entry (0: no view entry before the snapshot). A member of
   * `view` whose snapshot lies past it would get messages of its own view as history: it
   * starts over as a new member instead.
   */
  viewIndex: number;
  history: HistoryEntry[];
  ordered: number[];
}

/**
 * An entry as sent: a message's text is left out (null) when the follower should hold the
 * body from the sender's own multicast; the follower then asks for it if it does not.
 */
export type SentEntry = Omit<LogEntry, "text"> & { text: string | null };

/** Leader → follower: Raft AppendEntries. `snap` replaces the follower's log with a base. */
export interface AppendMsg {
  kind: "append";
  term: number;
  prevIndex: number;
  prevTerm: number;
  commit: number;
  compact: number;
  snap: Snapshot | null;
  entries: SentEntry[];
}

/**
 * Follower → leader, reliable: a rejection, a `missing` body, or a snapshot's answer. A plain
 * success goes as a coalesced `match` control note instead (ctrl.ts).
 */
export interface AppendRespMsg {
  kind: "append-resp";
  term: number;
  ok: boolean;
  /**
   * ok: highest index now matching; not ok: a hint where to resume (our last index when our
   * log is shorter than the append's prevIndex, else our commit index).
   */
  index: number;
  /** The request's prevIndex, to ignore stale rejections. */
  reqPrev: number;
  /** ok: the entry at index + 1 came without its text and we lack the body (0: none). */
  missing: number;
}

export type LogMsg = SubmitMsg | AppendMsg | AppendRespMsg;
