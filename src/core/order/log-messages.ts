import type { MsgSeq, NodeId } from "../types.js";

/** One position of the total order. `from === -1` is a leader's no-op (commits earlier terms). */
export interface LogEntry {
  term: number;
  from: NodeId | -1;
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

/** Leader → follower: Raft AppendEntries. `snap` replaces the follower's log with a base. */
export interface AppendMsg {
  kind: "append";
  term: number;
  prevIndex: number;
  prevTerm: number;
  commit: number;
  compact: number;
  snap: boolean;
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
