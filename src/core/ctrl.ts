import type { ProbeCtrl } from "./membership/detector.js";
import type { ElectionCtrl } from "./membership/election.js";
import type { NodeId } from "./types.js";

/** Stability report (fifo/causal): messages delivered here per sender incarnation. */
export interface StableCtrl {
  t: "stable";
  delivered: number[];
  incs: number[];
}

/**
 * Total order, follower → leader: my log matches yours up to `index` (term `term`). Coalesced:
 * one per drain, however many appends arrived; a lost one is repaired by the leader's next
 * append (or its repair append after a heartbeat interval without progress).
 */
export interface MatchCtrl {
  t: "match";
  term: number;
  index: number;
}

/**
 * Total order, leader → follower: positions up to `commit` are committed, entries up to
 * `compact` may be dropped (as in an append; sent when no append carries them).
 */
export interface CommitCtrl {
  t: "commit";
  term: number;
  commit: number;
  compact: number;
}

/** The total-order log's control messages. */
export type LogCtrl = MatchCtrl | CommitCtrl;

/** Unreliable control messages: sent once in a frame's control section, never retransmitted. */
export type Ctrl = ProbeCtrl | ElectionCtrl | StableCtrl | LogCtrl;

const TAGS = [
  "ping-req",
  "ping",
  "pong",
  "prevote-req",
  "prevote-resp",
  "vote-req",
  "vote-resp",
  "leader-hb",
  "leader-ack",
  "stable",
  "timeout-now",
  "match",
  "commit",
] as const;

/** A vote answer's flags: 1 granted, 2 the voter forgot its log. */
const voteBits = (c: { granted: boolean; forgot?: true }): number =>
  (c.granted ? 1 : 0) | (c.forgot ? 2 : 0);

export function encodeCtrl(c: Ctrl): unknown[] {
  switch (c.t) {
    case "ping-req":
      return [0, c.target, c.nonce];
    case "ping":
      return [1, c.origin, c.nonce];
    case "pong":
      return [2, c.origin, c.nonce, c.target];
    case "prevote-req":
      return [3, c.term, c.lastIndex, c.lastTerm];
    case "prevote-resp":
      return [4, c.term, voteBits(c)];
    case "vote-req":
      return c.transfer
        ? [5, c.term, c.lastIndex, c.lastTerm, 1]
        : [5, c.term, c.lastIndex, c.lastTerm];
    case "vote-resp":
      return [6, c.term, voteBits(c)];
    case "leader-hb":
      return c.ages ? [7, c.term, c.round, c.ages] : [7, c.term, c.round];
    case "leader-ack":
      return c.view ? [8, c.term, c.round, c.view[0], c.view[1]] : [8, c.term, c.round];
    case "stable":
      return [9, c.delivered, c.incs];
    case "timeout-now":
      return [10, c.term];
    case "match":
      return [11, c.term, c.index];
    case "commit":
      return [12, c.term, c.commit, c.compact];
  }
}

const nat = (x: unknown): x is number => typeof x === "number" && Number.isSafeInteger(x) && x >= 0;
/** A node id below `hostCount` (a function, not a closure per call: this runs per control message). */
const isId = (x: unknown, hostCount: number): x is NodeId => nat(x) && x < hostCount;

/** A leader's ages: one per host, each -1 or a whole number of ms. */
function isAges(x: unknown, hostCount: number): x is number[] {
  if (!Array.isArray(x) || x.length !== hostCount) return false;
  for (const v of x) if (v !== -1 && !nat(v)) return false;
  return true;
}

/** Validate one control message; null when malformed. */
export function decodeCtrl(raw: unknown, hostCount: number): Ctrl | null {
  if (!Array.isArray(raw) || raw.length < 1) return null;
  const tag = TAGS[raw[0] as number];
  const a = raw[1];
  const b = raw[2];
  const c = raw[3];
  switch (tag) {
    case "ping-req":
      return raw.length === 3 && isId(a, hostCount) && nat(b)
        ? { t: tag, target: a, nonce: b }
        : null;
    case "ping":
      return raw.length === 3 && isId(a, hostCount) && nat(b)
        ? { t: tag, origin: a, nonce: b }
        : null;
    case "pong":
      return raw.length === 4 && isId(a, hostCount) && nat(b) && isId(c, hostCount)
        ? { t: tag, origin: a, nonce: b, target: c }
        : null;
    case "prevote-req":
      return raw.length === 4 && nat(a) && nat(b) && nat(c)
        ? { t: tag, term: a, lastIndex: b, lastTerm: c }
        : null;
    case "vote-req":
      if (!nat(a) || !nat(b) || !nat(c)) return null;
      if (raw.length === 4) return { t: tag, term: a, lastIndex: b, lastTerm: c };
      return raw.length === 5 && raw[4] === 1
        ? { t: tag, term: a, lastIndex: b, lastTerm: c, transfer: true }
        : null;
    case "timeout-now":
      return raw.length === 2 && nat(a) ? { t: tag, term: a } : null;
    case "prevote-resp":
    case "vote-resp":
      if (raw.length !== 3 || !nat(a) || !nat(b) || b > 3) return null;
      return (b & 2) === 2
        ? { t: tag, term: a, granted: (b & 1) === 1, forgot: true }
        : { t: tag, term: a, granted: b === 1 };
    case "match":
      return raw.length === 3 && nat(a) && nat(b) ? { t: tag, term: a, index: b } : null;
    case "commit":
      return raw.length === 4 && nat(a) && nat(b) && nat(c)
        ? { t: tag, term: a, commit: b, compact: c }
        : null;
    case "leader-hb":
      if (!nat(a) || !nat(b)) return null;
      if (raw.length === 3) return { t: tag, term: a, round: b };
      return raw.length === 4 && isAges(c, hostCount)
        ? { t: tag, term: a, round: b, ages: c }
        : null;
    case "leader-ack": {
      if (!nat(a) || !nat(b)) return null;
      if (raw.length === 3) return { t: tag, term: a, round: b };
      const d = raw[4];
      return raw.length === 5 && nat(c) && nat(d)
        ? { t: tag, term: a, round: b, view: [c, d] }
        : null;
    }
    case "stable":
      if (raw.length !== 3 || !Array.isArray(a) || !Array.isArray(b)) return null;
      if (a.length !== hostCount || b.length !== hostCount || !a.every(nat) || !b.every(nat))
        return null;
      return { t: tag, delivered: a as number[], incs: b as number[] };
    default:
      return null;
  }
}
