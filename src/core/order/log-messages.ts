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

/** Sender → leader: please order my message. */
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
  history: HistoryEntry[];
  ordered: number[];
}

/** Leader → follower: Raft AppendEntries. `snap` replaces the follower's log with a base. */
export interface AppendMsg {
  kind: "append";
  term: number;
  prevIndex: number;
  prevTerm: number;
  commit: number;
  compact: number;
  snap: Snapshot | null;
  entries: LogEntry[];
}

export interface AppendRespMsg {
  kind: "append-resp";
  term: number;
  ok: boolean;
  /** ok: highest index now matching; not ok: a hint where to resume (our commit index). */
  index: number;
  /** The request's prevIndex, to ignore stale rejections. */
  reqPrev: number;
}

export type LogMsg = SubmitMsg | AppendMsg | AppendRespMsg;
