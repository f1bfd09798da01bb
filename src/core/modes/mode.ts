import type { AppMsg } from "../app-message.js";
import type { Ctrl, LogCtrl } from "../ctrl.js";
import type { MembershipConfig } from "../membership/config.js";
import type { View } from "../membership/view.js";
import type { NodeEvent, SendResult, UnsafeKnobs } from "../node-types.js";
import type { Delivery, HeldMessage } from "../order/index.js";
import type { HistoryEntry } from "../state/history.js";
import type { MsgSeq, NodeId, ProtocolLimits } from "../types.js";

/** What an ordering mode may ask of the node that hosts it. */
export interface ModeContext {
  readonly self: NodeId;
  readonly hostCount: number;
  readonly limits: ProtocolLimits;
  readonly cfg: MembershipConfig;
  readonly unsafe: UnsafeKnobs;
  /** State transfer: how many recent messages a new member receives. */
  readonly historyMessages: number;
  /** Our current incarnation (it changes when we rejoin as a new life). */
  inc(): number;
  /** Time of the event being handled. */
  now(): number;
  term(): number;
  isLeader(): boolean;
  leader(): NodeId | undefined;
  /** The failure detector thinks `p` is up, and we know its incarnation. */
  live(p: NodeId): boolean;
  /**
   * `p` is live but silent past `probeAfterMs` (probed or suspected): within `deadAfterMs` of
   * its last frame it is either heard again or declared dead. Optional: without it, every
   * live node is taken to answer.
   */
  unsure?(p: NodeId): boolean;
  /** The incarnation of `p` we talk to (0: never heard from it). */
  knownInc(p: NodeId): number;
  /**
   * Life `inc` of `p` is out of our group for good (told to rejoin): record its departure, as
   * a view that leaves it out does, so `live` answers false for it until a new life appears.
   */
  depart(p: NodeId, inc: number): void;
  /**
   * A number that changes whenever `live`, `knownInc` or `inc` may answer differently for
   * some node (a health change, a new life learned or left out, our own rejoin). A mode may
   * skip work that depends only on those while it stays the same. Optional: without it,
   * nothing is skipped.
   */
  membershipEpoch?(): number;
  /**
   * How long an answer from `p` to a request it answers at once may take before it is
   * presumed lost (ms): about two round trips, the retransmission timeout while backing off;
   * Infinity while `p` has not acknowledged everything we sent it (the channel repairs that
   * itself, and under load the answer queues behind it).
   */
  answerWait(p: NodeId): number;
  /** Reliable, FIFO send of one message to one peer. */
  unicast(to: NodeId, msg: AppMsg): void;
  /** Our own message `seq` reached peer `by`, one of `of` (total order: the leader's own). */
  stored(seq: MsgSeq, by: NodeId, of: number): void;
  /** Room for a message of `bytes` on every target's channel; an error line when there is none. */
  noRoom(targets: readonly NodeId[], bytes: number): string | undefined;
  /** A message of about `bytes` can never fit a channel's backlog: the error line. */
  neverFits(bytes: number): string | undefined;
  /** The same encoded bytes on every target's channel; `tag` is reported back in `acked` events. */
  multicast(targets: readonly NodeId[], bytes: Uint8Array, tag: MsgSeq): void;
  /** An unreliable control message (rides on the next frame to the peer). */
  ctrl(to: NodeId, c: Ctrl): void;
  /**
   * An unreliable control message that needs no frame of its own: it rides on the next frame
   * to the peer (every live peer gets one at least every heartbeat); a newer one replaces it.
   */
  report(to: NodeId, c: Ctrl): void;
  /**
   * An unreliable control message due at the next drain (it makes a frame go out); a newer
   * note to the same peer replaces it meanwhile (coalescing).
   */
  note(to: NodeId, c: Ctrl): void;
  /** A delivery (in order with events). */
  deliver(d: Delivery, history: boolean): void;
  emit(ev: NodeEvent): void;
  /** A view was installed. */
  installed(v: View): void;
  /** Life `inc` of `p` left the view: stop sending to it and hold nothing for it. */
  abandon(p: NodeId, inc: number): void;
  /** Start over as a new member (new incarnation). */
  rejoin(reason: string): void;
  /** Count a dropped message. */
  protocolError(): void;
}

/** The log position (or installed view) a candidate must match to get our vote. */
export interface Position {
  lastIndex: number;
  lastTerm: number;
}

/**
 * One ordering mode: fifo/causal (multicast + view-change flush) or total (replicated log
 * with views as log entries). The node feeds it user sends, application messages from peers
 * and news of peers; it decides what is delivered, in which view, and when.
 */
export interface OrderingMode {
  /** The installed view. */
  readonly view: View;
  send(text: string): SendResult;
  onApp(from: NodeId, fromInc: number, m: AppMsg): void;
  /** Control messages of the mode (stability reports). */
  onStable?(from: NodeId, received: number[], incs: number[]): void;
  /** Total order's control messages (`match`, `commit`). */
  onLogCtrl?(from: NodeId, c: LogCtrl): void;
  /** Flow control: false while nothing more may be taken from `p`'s channel. */
  accepting?(p: NodeId): boolean;
  /** A peer's new life was learned (its old life is gone). */
  onPeerLife(p: NodeId): void;
  /** After every event: leader duties, view changes, timers of the mode. */
  advance(): void;
  /** When the mode's own timers next want an `advance` (undefined: none). */
  nextWake?(): number | undefined;
  /**
   * Our own new life: forget everything but unsent user messages, and (total order) what the
   * replicated log stores. True when that log was lost too (our votes cannot vouch for it).
   */
  reset(): boolean;
  position(): Position;
  heldBack(): HeldMessage[];
  readonly heldCount: number;
  /** Messages kept for relaying or for lagging members (boundedness). */
  readonly retained: number;
  /** Log entries (total). */
  readonly logSize: number;
  /** Own messages not yet multicast or ordered. */
  readonly pendingCount: number;
  /** Notices for the user about why messages wait. */
  waitingReason(): string | undefined;
  /** History entries to hand to a new member. */
  historyEntries(upTo?: number): HistoryEntry[];
}
