/** Index of a host in the configured host list. */
export type NodeId = number;
/** Per-channel sequence number (starts at 1 for every new pair of incarnations). */
export type Seq = number;
/** Chosen by a process at start-up; strictly greater for a later life of the same id. */
export type Incarnation = number;
/** Per-sender multicast message number (1, 2, 3, … within one incarnation). */
export type MsgSeq = number;
/** Position in the total order assigned by the sequencer. */
export type OrderNo = number;

export type Ordering = "fifo" | "causal" | "total";
export const ORDERINGS: readonly Ordering[] = ["fifo", "causal", "total"];

/** Protocol timings and bounds; every field is documented in the README ("Config keys"). */
export interface ProtocolLimits {
  /** Largest datagram we build, in bytes (frame header included). */
  maxDatagram: number;
  /** Largest user message, in bytes of UTF-8; larger ones are refused with an error. */
  maxMessageBytes: number;
  /** Entries (fragments) in flight per peer before new ones wait in the backlog. */
  window: number;
  /** Entries waiting per peer (backlog + in flight); a send that would exceed it is refused. */
  maxBacklog: number;
  /** Retransmission timeout before the first RTT sample, ms. */
  rtoInitialMs: number;
  /** Lower bound of the adaptive retransmission timeout, ms. */
  rtoMinMs: number;
  /** Upper bound of the retransmission timeout including exponential backoff, ms. */
  rtoMaxMs: number;
}

export const DEFAULT_LIMITS: ProtocolLimits = {
  maxDatagram: 1400,
  maxMessageBytes: 65536,
  window: 1024,
  maxBacklog: 100_000,
  rtoInitialMs: 200,
  rtoMinMs: 10,
  rtoMaxMs: 2000,
};
