import { RecvChannel } from "./recv-channel.js";
import { SendChannel } from "./send-channel.js";
import type { Incarnation, NodeId, ProtocolLimits } from "./types.js";

/** Everything one node keeps about one other configured host: its channels. */
export class Peer {
  /** Incarnation we address our frames to (0 = never heard from it). */
  knownInc: Incarnation = 0;
  send: SendChannel;
  recv: RecvChannel;
  /** Encoded control messages waiting for the next frame to this peer. */
  ctrl: unknown[] = [];
  /**
   * A control message that needs no frame of its own (a stability report): it rides on the
   * next frame to this peer, at most a heartbeat away; a newer one replaces it.
   */
  lazyCtrl: unknown = undefined;
  /**
   * A control message due at the next drain (a frame goes out for it) that a newer one of the
   * same kind replaces meanwhile: total order's coalesced `match`/`commit` notes.
   */
  noteCtrl: unknown = undefined;
  /** When we last sent this peer a frame (heartbeat scheduling). */
  lastSent = Number.NEGATIVE_INFINITY;
  /**
   * When to repeat our last ack if no other frame to the peer has carried it by then
   * (Infinity: none due). One lost ack would otherwise make the peer resend what we have.
   */
  reackAt = Number.POSITIVE_INFINITY;
  /**
   * The departure record: the life of this peer that a view left out. That life is never
   * proposed again (it must come back as a new life, with state transfer).
   */
  departedInc: Incarnation = 0;
  /** The departed life we told to rejoin, and in which of our terms (once per life and term). */
  toldRejoin: Incarnation = 0;
  toldRejoinTerm = -1;
  /** When the departure was recorded, and when we last received a frame from the peer. */
  departedAt = Number.NEGATIVE_INFINITY;
  heardAt = Number.NEGATIVE_INFINITY;

  constructor(
    readonly id: NodeId,
    private readonly limits: ProtocolLimits,
    /** The send side's limits (its window shared among the peers: `sendWindow`). */
    private readonly sendLimits: ProtocolLimits = limits,
  ) {
    this.send = new SendChannel(sendLimits);
    this.recv = new RecvChannel(limits);
    // Announce ourselves at the first drain: peers learn our incarnation at once.
    this.recv.ackPending = true;
  }

  /**
   * We start over as a new life: the departures our old life recorded were judgements of its
   * own views. The new life joins whatever view the leader admits it to; keeping the old
   * record would make it hold a member of that view departed for good and never report to it
   * (its relay buffers never emptied; seed 20261611).
   */
  forgetDeparture(): void {
    this.departedInc = 0;
    this.departedAt = Number.NEGATIVE_INFINITY;
    this.toldRejoin = 0;
    this.toldRejoinTerm = -1;
  }

  /** Both channels start over (a new life of the peer, or of ourselves). */
  resetChannels(): void {
    // A note was made for (or by) the old life: the new one must not take it as its own (a
    // stale `match` made a leader believe a new member's empty log held its entries).
    this.noteCtrl = undefined;
    this.send = new SendChannel(this.sendLimits);
    this.recv = new RecvChannel(this.limits);
    this.recv.ackPending = true;
  }
}
