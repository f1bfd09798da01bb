/** What RmNode hands its shell: events, send results, drop reasons, statistics. */
import type { Health } from "./membership/detector.js";
import type { HardState } from "./membership/election.js";
import type { View } from "./membership/view.js";
import type { Delivery } from "./order/index.js";
import type { Incarnation, MsgSeq, NodeId } from "./types.js";
import type { DecodeError } from "./wire.js";

export type NodeEvent =
  /** A delivery; `history` marks state transfer (the group's recent past, before our first view). */
  | ({ type: "deliver"; history?: true } & Delivery)
  /** An own message left this node: multicast (fifo/causal) or handed to the sequencer (total). */
  | { type: "sent"; seq: MsgSeq; text: string }
  /** This process started over as a new member (new incarnation) without a crash. */
  | { type: "rejoin"; incarnation: Incarnation; reason: string }
  | { type: "acked"; seq: MsgSeq; peer: NodeId; by: number }
  | { type: "peer"; peer: NodeId; state: "up" | "restarted"; incarnation: Incarnation }
  | { type: "health"; peer: NodeId; from: Health; to: Health }
  | { type: "view"; term: number; version: number; members: NodeId[]; incs: Incarnation[] }
  | { type: "leader"; term: number; leader: NodeId | null }
  /** This node leads and holds its lease (a leader-only service may run), or stopped doing so. */
  | { type: "lease"; held: boolean; term: number }
  | { type: "notice"; level: "info" | "warn"; msg: string };

export interface OutDatagram {
  to: NodeId;
  bytes: Uint8Array;
}

export interface DrainResult {
  datagrams: OutDatagram[];
  events: NodeEvent[];
  /** When set, the shell must store it durably before sending the datagrams. */
  persist?: HardState;
}

export type SendResult = { ok: true; seq: MsgSeq } | { ok: false; error: string };

export type DropReason =
  | DecodeError
  | "too-large"
  | "wrong-source"
  | "misdirected"
  | "stale-incarnation"
  | "bad-message"
  | "protocol-error";

export interface PeerStats {
  id: NodeId;
  up: boolean;
  health: Health;
  incarnation: Incarnation;
  queued: number;
  inFlight: number;
  srttMs: number | undefined;
  rtoMs: number;
}

export interface NodeStats {
  datagramsSent: number;
  datagramsReceived: number;
  bytesSent: number;
  bytesReceived: number;
  messagesSent: number;
  delivered: number;
  unacked: number;
  heldBack: number;
  retransmissions: number;
  fastRetransmissions: number;
  duplicates: number;
  dropped: Partial<Record<DropReason, number>>;
  peers: PeerStats[];
}

export interface NodeStatus {
  term: number;
  role: string;
  leader: NodeId | undefined;
  leaseUntil: number;
  view: View;
}

/**
 * Deliberately broken protocol variants: negative controls for the fuzz suite's checkers.
 * Never set outside tests.
 */
export interface UnsafeKnobs {
  /** fifo/causal: install a new view without the flush (no relays, no cut). */
  skipFlush?: boolean;
  /** total: the leader delivers (commits) an entry as soon as it appends it. */
  commitWithoutQuorum?: boolean;
  /** election: a voter grants every vote request, even a second one in the same term. */
  voteTwice?: boolean;
  /** a new life takes messages of its own previous life (stale incarnation accepted). */
  acceptOldLife?: boolean;
}
