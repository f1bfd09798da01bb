import { type AppMsg, decodeApp, encodeApp } from "./app-message.js";
import { bundle } from "./bundler.js";
import { type Ctrl, decodeCtrl, encodeCtrl } from "./ctrl.js";
import { OwnStall } from "./membership/awareness.js";
import { defaultMembership, type MembershipConfig } from "./membership/config.js";
import {
  FailureDetector,
  type Health,
  type HealthChange,
  type ProbeCtrl,
} from "./membership/detector.js";
import { Election, type ElectionOut, type HardState } from "./membership/election.js";
import { hasMember, NO_VIEW, type View } from "./membership/view.js";
import type { ModeContext, OrderingMode } from "./modes/mode.js";
import { MulticastMode } from "./modes/multicast.js";
import { TotalMode } from "./modes/total.js";
import type {
  DrainResult,
  DropReason,
  NodeEvent,
  NodeStats,
  NodeStatus,
  OutDatagram,
  PeerStats,
  SendResult,
  UnsafeKnobs,
} from "./node-types.js";
import {
  type Delivery,
  type HeldMessage,
  makeOrderLayer,
  type OrderFactory,
} from "./order/index.js";
import { Peer } from "./peer.js";
import type { Incarnation, MsgSeq, NodeId, Ordering, ProtocolLimits } from "./types.js";
import { type Ack, decodeFrame, ENTRY_OVERHEAD, FLAG_MORE, FRAME_OVERHEAD } from "./wire.js";

export * from "./node-types.js";

/** `frameDue`'s answers: nothing for the peer, or FRAME with the HEARTBEAT and TRAFFIC bits. */
const NO_FRAME = 0;
const FRAME = 1;
const HEARTBEAT = 2;
const TRAFFIC = 4;

/** What `drain` hands out when there is nothing (frozen: a shell must not add to them). */
const NO_DATAGRAMS = Object.freeze([]) as unknown as OutDatagram[];
const NO_EVENTS = Object.freeze([]) as unknown as NodeEvent[];

/** Largest datagram UDP over IPv4 can carry; anything above is dropped unread. */
export const MAX_UDP_PAYLOAD = 65507;
/** How far behind the clock retransmission timers may be judged while we are behind on input. */
const RTX_MAX_LAG_MS = 20;
/** The shell's "read up to" instant is that of its last read, a fraction of a ms before the flush. */
const RTX_READ_SLACK_MS = 0.25;
/** Entries resent at most per peer on one retransmission timeout. */
const TIMEOUT_BURST = 64;
/**
 * A follower of a live leader: its heartbeat timer, in heartbeat intervals. Its frames leave
 * with its answer to each leader round; the timer covers a lost round (a peer then hears it
 * after at most 1.5 intervals, well within probeAfterMs).
 */
const FOLLOWER_HEARTBEAT = 1.5;
/**
 * A follower's keepalive to the other followers, in heartbeat intervals, while the leader's
 * rounds come: the leader vouches for them in each round (README "Membership"), so the
 * group's idle traffic grows with N, not N².
 */
const FOLLOWER_KEEPALIVE = 10;
/**
 * Fragments in flight per peer: `window` up to 4 hosts; beyond, the window is shared so that
 * what all senders may have in flight towards one receiver stays what 3 peers' windows are
 * (at least 32). With 32 hosts and a window of 1024, each sender's flight of 1024 fragments
 * per peer overflowed receivers' 4 MB socket buffers during a burst: the kernel dropped
 * datagrams, heartbeats among them (false "dead" verdicts), and the drops were resent.
 */
export function sendWindow(window: number, hostCount: number): number {
  if (hostCount <= 4) return window;
  return Math.min(window, Math.max(32, Math.floor((3 * window) / (hostCount - 1))));
}

/** Own messages whose acknowledgements are counted at once, at most (`acked` events). */
export const ACK_COUNTS = 65_536;

/** State transfer: recent messages a new member receives, unless configured. */
export const DEFAULT_HISTORY = 1000;

export interface NodeOptions {
  id: NodeId;
  hostCount: number;
  incarnation: Incarnation;
  ordering: Ordering;
  limits: ProtocolLimits;
  /** Failure detection and election timings (defaults: `defaultMembership`). */
  membership?: Partial<MembershipConfig>;
  /** Term and vote persisted by an earlier life of this process. */
  hard?: HardState;
  /** Randomness for election timeouts (seeded in the simulator). */
  random: () => number;
  /** Deliberately broken variants (negative controls for the fuzz suite). */
  unsafe?: UnsafeKnobs;
  /** State transfer: how many recent messages a new member receives (0: none). */
  historyMessages?: number;
  /** Builds the fifo/causal order layer; tests inject broken layers here. */
  makeOrder?: OrderFactory;
  /** The time at creation (timers start from it). */
  now?: number;
  /**
   * The shell reports with `caughtUp` how far it has read its input; silence is then judged
   * only up to that instant (default false: judged at the time of each event).
   */
  reportsCaughtUp?: boolean;
}

/**
 * One rmchat process as a pure state machine: feed it datagrams, ticks and user sends
 * with the current time; take frames to send, deliveries, events and the next wake-up.
 * It owns the per-peer channels, failure detection and the election; the ordering mode
 * (modes/multicast.ts for fifo/causal, modes/total.ts for total) owns views and delivery.
 */
export class RmNode {
  readonly id: NodeId;
  incarnation: Incarnation;
  readonly ordering: Ordering;
  private readonly hostCount: number;
  private readonly limits: ProtocolLimits;
  readonly membership: MembershipConfig;
  private readonly unsafe: UnsafeKnobs;
  private readonly peers: Array<Peer | undefined> = [];
  private readonly mode: OrderingMode;
  private readonly detector: FailureDetector;
  private readonly election: Election;
  private readonly fragSize: number;
  private readonly ackCount = new Map<MsgSeq, number>();
  private events: NodeEvent[] = [];
  private released: number[] = [];
  private readonly complete: Uint8Array[] = [];
  private readonly elOut: ElectionOut = [];
  /**
   * Changes whenever what the mode context's `live`, `knownInc` or `inc` answer may change
   * (ModeContext.membershipEpoch): health changes, lives learned or left out, our rejoin.
   */
  private membershipEpoch = 0;
  /** Scratch lists the failure detector reports into (emptied right after each call). */
  private readonly healthOut: HealthChange[] = [];
  private readonly probes: Array<{ to: NodeId; msg: ProbeCtrl }> = [];
  private lastStep: number;
  /** The shell reports how far it has read its input (`caughtUp`). */
  private readonly reportsCaughtUp: boolean;
  /** Every datagram that arrived before this instant has been received. */
  private caughtUpAt: number;
  /** Our own timers running late: silence is judged further back for a while (awareness.ts). */
  private readonly stall = new OwnStall();
  /** The instant the shell was last asked to wake us (nextWake), to see it run late. */
  private wakeAt = Number.POSITIVE_INFINITY;
  /** The last stall seen as a gap between events (`step`): when, and by how much. */
  private shiftedAt = Number.NEGATIVE_INFINITY;
  private shiftedMs = 0;
  private nextLeaderHb = 0;
  /** Follower: when the current leader's latest heartbeat round arrived. */
  private lastRoundAt = Number.NEGATIVE_INFINITY;
  /** The leader's ages list, reused for every round. */
  private readonly agesOut: number[] = [];
  /** The leader last reported (term and id; -1: none yet reported, undefined: no leader). */
  private shownLeader: NodeId | undefined = -1;
  private shownTerm = -1;
  private waitingShown = "";
  private leaseShown = false;
  /** A rejoin asked for while handling an event (carried out once the event is done). */
  private rejoinWanted: string | undefined;
  private readonly st = {
    datagramsSent: 0,
    datagramsReceived: 0,
    bytesSent: 0,
    bytesReceived: 0,
    messagesSent: 0,
    delivered: 0,
    dropped: {} as Partial<Record<DropReason, number>>,
  };

  constructor(opts: NodeOptions) {
    const now = opts.now ?? 0;
    this.id = opts.id;
    this.incarnation = opts.incarnation;
    this.ordering = opts.ordering;
    this.hostCount = opts.hostCount;
    this.limits = opts.limits;
    this.unsafe = opts.unsafe ?? {};
    this.membership = { ...defaultMembership(opts.hostCount), ...opts.membership };
    this.fragSize = Math.max(64, opts.limits.maxDatagram - FRAME_OVERHEAD - ENTRY_OVERHEAD);
    this.lastStep = now;
    this.reportsCaughtUp = opts.reportsCaughtUp === true;
    this.caughtUpAt = now;
    const sendLimits = { ...opts.limits, window: sendWindow(opts.limits.window, opts.hostCount) };
    for (let p = 0; p < opts.hostCount; p++)
      this.peers.push(p === opts.id ? undefined : new Peer(p, opts.limits, sendLimits));
    this.detector = new FailureDetector(opts.id, opts.hostCount, this.membership);
    const ctx = this.modeContext(opts.historyMessages ?? DEFAULT_HISTORY);
    if (opts.ordering === "total") {
      const total = new TotalMode(ctx);
      total.observe = {
        term: (term) => this.election.observeTerm(term, this.lastStep),
        leader: (from, term) => this.election.observeLeader(from, term, this.lastStep),
      };
      this.mode = total;
    } else {
      this.mode = new MulticastMode(ctx, opts.ordering, opts.makeOrder ?? makeOrderLayer);
    }
    const mode = this.mode;
    this.election = new Election(
      opts.id,
      opts.hostCount,
      this.membership,
      opts.random,
      opts.hard ?? { term: 0, votedFor: -1 },
      now,
      () => mode.position(),
      (p) => this.detector.live(p),
    );
    this.election.unsafeVoteTwice = this.unsafe.voteTwice === true;
    // A term on disk: an earlier life of ours was in a group, and its log is gone.
    if (opts.ordering === "total" && (opts.hard?.term ?? 0) > 0) this.election.lostLog(now);
  }

  private modeContext(historyMessages: number): ModeContext {
    return {
      self: this.id,
      hostCount: this.hostCount,
      limits: this.limits,
      cfg: this.membership,
      unsafe: this.unsafe,
      historyMessages,
      inc: () => this.incarnation,
      now: () => this.lastStep,
      term: () => this.election.term,
      isLeader: () => this.election.isLeader,
      leader: () => this.election.leader,
      live: (p) => {
        const q = this.peers[p];
        return (
          q !== undefined &&
          this.detector.live(p) &&
          q.knownInc !== 0 &&
          q.knownInc !== q.departedInc
        );
      },
      unsure: (p) => this.detector.unsure(p),
      knownInc: (p) => this.peers[p]?.knownInc ?? 0,
      depart: (p, inc) => {
        if (this.recordDeparture(p, inc)) this.membershipEpoch++;
      },
      membershipEpoch: () => this.membershipEpoch,
      answerWait: (p) => {
        const s = this.peers[p]?.send;
        if (!s) return this.limits.rtoInitialMs;
        return s.queued > 0 ? Number.POSITIVE_INFINITY : s.rto.answerWait;
      },
      unicast: (to, msg) => this.unicast(to, msg),
      stored: (seq, by, of) => this.acked(seq, by, of),
      noRoom: (targets, bytes) => this.noRoom(targets, bytes),
      multicast: (targets, bytes, tag) => this.multicast(targets, bytes, tag),
      neverFits: (bytes) => {
        const n = this.frags(bytes);
        return n > this.limits.maxBacklog
          ? `send backlog full: the message needs ${n} fragments (limit ${this.limits.maxBacklog})`
          : undefined;
      },
      ctrl: (to, c) => this.ctrlTo(to, c),
      report: (to, c) => {
        const p = this.peers[to];
        if (p) p.lazyCtrl = encodeCtrl(c);
      },
      note: (to, c) => {
        const p = this.peers[to];
        if (p) p.noteCtrl = encodeCtrl(c);
      },
      deliver: (d, history) => this.deliver(d, history),
      emit: (ev) => this.events.push(ev),
      installed: (v) => this.installed(v),
      abandon: (p, inc) => this.abandon(p, inc),
      rejoin: (reason) => {
        this.rejoinWanted ??= reason;
      },
      protocolError: () => this.drop("protocol-error"),
    };
  }

  // ---------------------------------------------------------------- inputs

  /** Multicast a user message. Nothing is sent when it is refused. */
  send(now: number, text: string): SendResult {
    this.step(now);
    const size = Buffer.byteLength(text, "utf8");
    if (size > this.limits.maxMessageBytes) {
      return {
        ok: false,
        error: `message too large: ${size} bytes (limit ${this.limits.maxMessageBytes})`,
      };
    }
    const r = this.mode.send(text);
    if (r.ok) this.st.messagesSent++;
    this.afterEvent();
    return r;
  }

  private frags(bytes: number): number {
    return Math.max(1, Math.ceil(bytes / this.fragSize));
  }

  private noRoom(targets: readonly NodeId[], bytes: number): string | undefined {
    const n = this.frags(bytes);
    for (const t of targets) {
      const p = this.peers[t];
      if (p && !p.send.hasRoom(n)) {
        return `send backlog full: node ${p.id} has ${p.send.queued} unacknowledged fragments (limit ${this.limits.maxBacklog})`;
      }
    }
    return undefined;
  }

  private multicast(targets: readonly NodeId[], bytes: Uint8Array, tag: MsgSeq): void {
    let n = 0;
    for (const t of targets) {
      const p = this.peers[t];
      if (!p) continue;
      this.enqueue(p, bytes, tag);
      n++;
    }
    if (n > 0) this.countAcks(tag, 0);
    this.ackTargets = n;
  }

  /** Peers the latest own message went to (acked events count towards it). */
  private ackTargets = 0;

  private enqueue(p: Peer, bytes: Uint8Array, tag: number): void {
    const n = this.frags(bytes.length);
    for (let i = 0; i < n; i++) {
      const chunk = n === 1 ? bytes : bytes.subarray(i * this.fragSize, (i + 1) * this.fragSize);
      p.send.enqueue(i < n - 1 ? FLAG_MORE : 0, chunk, i === n - 1 ? tag : 0);
    }
  }

  private unicast(to: NodeId, msg: AppMsg): void {
    const p = this.peers[to];
    if (p) this.enqueue(p, encodeApp(msg), 0);
  }

  private drop(reason: DropReason): false {
    this.st.dropped[reason] = (this.st.dropped[reason] ?? 0) + 1;
    return false;
  }

  private deliver(d: Delivery, history: boolean): void {
    this.st.delivered++;
    const ev: NodeEvent = history
      ? { type: "deliver", history: true, ...d }
      : { type: "deliver", ...d };
    this.events.push(ev);
  }

  /** The view installed before the current one (for departure records). */
  private lastView: View = NO_VIEW;

  private installed(v: View): void {
    this.membershipEpoch++;
    // Lives the view leaves out: recorded once, so no view of ours takes them back.
    this.lastView.members.forEach((k, i) => {
      const inc = this.lastView.incs[i] as number;
      if (!hasMember(v, k, inc)) this.recordDeparture(k, inc);
    });
    this.lastView = v;
    // A member's life we have not heard from yet: talk to that life from now on.
    v.members.forEach((k, i) => {
      const p = this.peers[k];
      const inc = v.incs[i] as number;
      if (p && inc > p.knownInc) this.learnLife(p, inc, this.lastStep);
    });
    this.events.push({
      type: "view",
      term: v.term,
      version: v.version,
      members: [...v.members],
      incs: [...v.incs],
    });
  }

  /** Life `inc` of `k` is out of our group for good; false if that was known already. */
  private recordDeparture(k: NodeId, inc: number): boolean {
    const p = this.peers[k];
    if (!p || inc <= p.departedInc) return false;
    p.departedInc = inc;
    p.departedAt = this.lastStep;
    return true;
  }

  /** Life `inc` of `k` left the view: its channel is emptied (it learns from `base` that it must rejoin). */
  private abandon(k: NodeId, inc: number): void {
    const p = this.peers[k];
    if (!p || p.knownInc !== inc) return;
    const n = p.send.abandon();
    if (n > 0)
      this.events.push({
        type: "notice",
        level: "info",
        msg: `released ${n} fragments held for departed node ${k}`,
      });
  }

  /** Stall awareness and the lease's state, before anything else happens at `now`. */
  private step(now: number): void {
    const gap = now - this.lastStep;
    const expected = this.membership.heartbeatMs;
    if (gap > 3 * expected) {
      // We were frozen (event-loop stall, SIGSTOP): do not blame the peers for our silence.
      this.detector.stalled(gap - expected);
      this.election.stalled(gap - expected);
      this.shiftedAt = now;
      this.shiftedMs = gap - expected;
    }
    if (now > this.lastStep) this.lastStep = now;
    this.noteLeader();
  }

  /** After every input: the mode's duties (views, leader work), then a pending rejoin. */
  private afterEvent(): void {
    this.flushElection();
    this.noteLeader();
    if (this.rejoinWanted === undefined) {
      this.mode.advance();
      this.tellDeparted();
    }
    if (this.rejoinWanted !== undefined) {
      const why = this.rejoinWanted;
      this.rejoinWanted = undefined;
      this.rejoin(why);
      this.mode.advance();
    }
    this.waitingNotice();
  }

  /**
   * A datagram arrived. `source` is the id whose configured address and port it came
   * from (undefined when the address is not in the host list). Returns false when the
   * datagram was dropped (and counted in `stats().dropped`).
   */
  receive(now: number, source: NodeId | undefined, bytes: Uint8Array): boolean {
    this.step(now);
    const ok = this.receiveFrame(now, source, bytes);
    this.afterEvent();
    return ok;
  }

  private receiveFrame(now: number, source: NodeId | undefined, bytes: Uint8Array): boolean {
    this.st.datagramsReceived++;
    this.st.bytesReceived += bytes.length;
    if (bytes.length > MAX_UDP_PAYLOAD) return this.drop("too-large");
    const res = decodeFrame(bytes, this.hostCount);
    if (!res.ok) return this.drop(res.error);
    const f = res.frame;
    if (source === undefined || source !== f.from) return this.drop("wrong-source");
    if (f.to !== this.id) return this.drop("misdirected");
    const p = this.peers[f.from];
    if (!p) return this.drop("wrong-source");
    if (f.inc < p.knownInc && !this.unsafe.acceptOldLife) return this.drop("stale-incarnation");
    if (f.inc > p.knownInc) this.learnLife(p, f.inc, now);
    p.heardAt = now;
    this.detector.heard(p.id, now, this.healthOut);
    this.emitHealth();
    const forMe = f.toInc === this.incarnation || this.unsafe.acceptOldLife === true;
    if (f.ack && f.toInc === this.incarnation) this.onAck(p, f.ack, now);
    if (forMe) {
      if (p.recv.skipTo(f.base, this.complete)) this.onGap(p);
      // Flow control: while the mode holds too much of this peer's, its data waits (unacked).
      const refused = f.data.length > 0 && this.mode.accepting?.(p.id) === false;
      if (!refused)
        for (const d of f.data) p.recv.receive(d.seq, d.flags, d.payload, this.complete);
      p.recv.noteFrame(f.frame, f.top, refused ? "refused" : f.data.length > 0 ? "taken" : "none");
      this.onMessages(p);
    } else if (f.data.length > 0) {
      // Meant for an earlier life of ours, or sent before the peer knew which life it talks
      // to: answer so the sender learns our incarnation and resends, addressed to us.
      p.recv.ackPending = true;
      this.drop("stale-incarnation");
    }
    for (const raw of f.ctrl) {
      const c = decodeCtrl(raw, this.hostCount);
      if (c) this.onCtrl(p.id, c, now);
      else this.drop("bad-ctrl");
    }
    return true;
  }

  /** Life `inc` of peer `p` exists (a frame from it, or a view that has it). */
  private learnLife(p: Peer, inc: Incarnation, now: number): void {
    this.membershipEpoch++;
    if (p.knownInc !== 0) {
      // A new life of the peer: its old process is gone, and so is what we owed it.
      p.resetChannels();
      this.events.push({ type: "peer", peer: p.id, state: "restarted", incarnation: inc });
    } else {
      p.send.kick(now);
      this.events.push({ type: "peer", peer: p.id, state: "up", incarnation: inc });
    }
    p.knownInc = inc;
    p.recv.ackPending = true;
    this.mode.onPeerLife(p.id);
  }

  /** Own message `seq` reached `peer`, one of `of` it went to. */
  private acked(seq: MsgSeq, peer: NodeId, of: number): void {
    const k = (this.ackCount.get(seq) ?? 0) + 1;
    if (k >= of) this.ackCount.delete(seq);
    else this.countAcks(seq, k);
    this.events.push({ type: "acked", seq, peer, by: k });
  }

  /**
   * Count acknowledgements of own message `seq`. A message whose count never completes (a
   * target died before acknowledging it) would stay for good: past ACK_COUNTS, the oldest
   * count goes (a later ack of that message then counts from 1 again).
   */
  private countAcks(seq: MsgSeq, k: number): void {
    this.ackCount.set(seq, k);
    if (this.ackCount.size > ACK_COUNTS) {
      const oldest = this.ackCount.keys().next();
      if (!oldest.done) this.ackCount.delete(oldest.value);
    }
  }

  private onAck(p: Peer, ack: Ack, now: number): void {
    const released = this.released;
    p.send.onAck(now, ack, released);
    for (const seq of released) this.acked(seq, p.id, this.ackTargets);
    released.length = 0;
  }

  /**
   * A life a view of ours left out that still talks to us is told to start over. Every member
   * does this, not only the leader: a leader that was not in the view that left the life out
   * has no record of it and may take it back into a later view (the other members would then
   * hold the old life departed for good, and never report to it). Only a life we heard from
   * after we recorded its departure: a crashed one would hold the message unacknowledged.
   */
  private tellDeparted(): void {
    for (const p of this.peers) {
      if (!p || p.knownInc === 0 || p.knownInc !== p.departedInc) continue;
      // Told once per term: a life that moved to a newer term before our word reached it
      // drops it as stale (it may have come late), and is told again in the new term.
      if (p.toldRejoin === p.knownInc && p.toldRejoinTerm === this.election.term) continue;
      if (p.heardAt <= p.departedAt) continue;
      if (!this.detector.live(p.id)) continue;
      p.toldRejoin = p.knownInc;
      p.toldRejoinTerm = this.election.term;
      this.unicast(p.id, { kind: "rejoin", term: this.election.term });
    }
  }

  /** The peer abandoned messages for us: we were left out of its view. */
  private onGap(p: Peer): void {
    this.rejoinWanted ??= `node ${p.id} dropped messages for us (we were left out of the view)`;
  }

  /** Start over as a new incarnation (a new member: state transfer brings us up to date). */
  private rejoin(reason: string): void {
    this.election.abdicate(this.lastStep);
    this.noteLeader();
    this.incarnation++;
    this.membershipEpoch++;
    for (const q of this.peers) {
      q?.resetChannels();
      q?.forgetDeparture();
    }
    this.ackCount.clear();
    this.complete.length = 0;
    // Total order keeps its log's entries (a quorum may have counted them), unless it had to
    // drop them: then our votes must not vouch for them.
    if (this.mode.reset()) this.election.lostLog(this.lastStep);
    this.lastView = NO_VIEW;
    this.events.push({
      type: "notice",
      level: "warn",
      msg: `rejoining as a new member: ${reason}`,
    });
    this.events.push({ type: "rejoin", incarnation: this.incarnation, reason });
  }

  private onMessages(p: Peer): void {
    const complete = this.complete;
    for (const bytes of complete) {
      if (this.rejoinWanted !== undefined) break; // we start over: the rest is for the old life
      const m = decodeApp(p.id, bytes, this.hostCount);
      if (!m) {
        this.drop("bad-message");
        continue;
      }
      if (m.kind === "rejoin") {
        // The group left this life of ours out of its view: start over as a new member.
        if (m.term >= this.election.term)
          this.rejoinWanted ??= `node ${p.id} says the group's view continues without us`;
        continue;
      }
      this.mode.onApp(p.id, p.knownInc, m);
    }
    // Emptied only when needed: setting an array's length costs a runtime call even when empty.
    if (complete.length !== 0) complete.length = 0;
  }

  private onCtrl(from: NodeId, c: Ctrl, now: number): void {
    switch (c.t) {
      case "ping-req":
        this.ctrlTo(c.target, { t: "ping", origin: from, nonce: c.nonce });
        return;
      case "ping":
        this.ctrlTo(from, { t: "pong", origin: c.origin, nonce: c.nonce, target: this.id });
        return;
      case "pong":
        if (c.origin === this.id) {
          this.detector.heard(c.target, now, this.healthOut);
          this.emitHealth();
        } else if (from === c.target) this.ctrlTo(c.origin, c);
        return;
      case "stable":
        this.mode.onStable?.(from, c.delivered, c.incs);
        return;
      case "match":
      case "commit":
        this.mode.onLogCtrl?.(from, c);
        return;
      default:
        // A vote refusal ("I heard the leader recently") makes no allowance for our own
        // stalls: after one, what we heard is old news, and refusing longer only keeps the
        // group without a leader.
        this.election.receive(from, c, now, this.elOut, this.judged(now, false));
        this.flushElection();
        if (c.t === "leader-hb" && from === this.election.leader && c.term === this.election.term)
          this.onRound(from, c.ages, now);
    }
  }

  /**
   * A round of the leader we follow: what it says of the others counts as contact with them
   * (their silence towards us is expected: followers heartbeat only the leader).
   */
  private onRound(leader: NodeId, ages: readonly number[] | undefined, now: number): void {
    this.lastRoundAt = now;
    if (ages === undefined) return;
    for (let k = 0; k < ages.length; k++) {
      const age = ages[k] as number;
      if (age < 0 || k === this.id || k === leader) continue;
      this.detector.vouch(k, now - age, now, this.healthOut);
    }
    this.emitHealth();
  }

  /** Following a leader whose rounds arrive (the latest within 1.5 heartbeat intervals). */
  private roundsFresh(): boolean {
    const l = this.election.leader;
    return (
      l !== undefined &&
      l !== this.id &&
      this.detector.live(l) &&
      this.lastStep < this.lastRoundAt + this.membership.heartbeatMs * FOLLOWER_HEARTBEAT
    );
  }

  private ctrlTo(to: NodeId, c: Ctrl): void {
    this.peers[to]?.ctrl.push(encodeCtrl(c));
  }

  private flushElection(): void {
    for (const o of this.elOut) {
      if (o.msg.t === "leader-ack" && o.msg.term === this.election.term) {
        o.msg.view = [this.mode.view.term, this.mode.view.version];
      }
      if (o.msg.t === "leader-hb") o.msg.ages = this.detector.ages(this.lastStep, this.agesOut);
      // "all" means the live peers: the others get a slow heartbeat until they answer.
      if (o.to === "all") {
        const enc = encodeCtrl(o.msg);
        for (const p of this.peers) if (p && this.detector.live(p.id)) p.ctrl.push(enc);
      } else this.ctrlTo(o.to, o.msg);
    }
    if (this.elOut.length !== 0) this.elOut.length = 0;
  }

  /** Health changes the detector reported into `healthOut` since the last call, as events. */
  private emitHealth(): void {
    const out = this.healthOut;
    if (out.length === 0) return;
    this.membershipEpoch++;
    for (const h of out) this.events.push({ type: "health", peer: h.peer, from: h.from, to: h.to });
    out.length = 0;
  }

  /**
   * The instant up to which a peer's silence is known to be real: with `reportsCaughtUp`, the
   * last instant at which the shell had read everything sent to us (a frame still waiting in
   * the socket is no silence); after a stall of our own, twice the stall further back,
   * decaying (awareness.ts; not for vote refusals: `allowStall` false); never more than
   * `maxOwnLagMs` behind `now`.
   */
  private judged(now: number, allowStall = true): number {
    const lag = this.membership.maxOwnLagMs;
    const read = this.reportsCaughtUp ? Math.min(now, Math.max(this.caughtUpAt, now - lag)) : now;
    const extra = allowStall ? this.stall.extra(now) : 0;
    return extra > 0 ? Math.max(now - lag, Math.min(read, now - extra)) : read;
  }

  /**
   * The shell has handed to `receive` every datagram that arrived before `upTo` (its socket
   * was read empty then). Failure detection and the election timeout judge silence up to
   * this instant only: a process behind on its own input does not blame its peers for it.
   */
  caughtUp(now: number, upTo: number): void {
    if (upTo <= this.caughtUpAt) return;
    this.step(now);
    this.caughtUpAt = Math.min(upTo, now);
    this.sendTimers(now);
    this.membershipTimers(now);
    this.afterEvent();
  }

  /**
   * Retransmission timers (RTO, probes, RACK's reorder timer), judged like silence: an ack
   * that would have stopped them may be waiting in our own socket, unread. So they fire only
   * for deadlines up to where the shell had read everything, at most RTX_MAX_LAG_MS behind the
   * clock. (Under load, 70% of timer resends were of messages the peer had already acked.)
   */
  private sendTimers(now: number): void {
    const at = this.reportsCaughtUp
      ? Math.min(now, Math.max(this.caughtUpAt + RTX_READ_SLACK_MS, now - RTX_MAX_LAG_MS))
      : now;
    for (const p of this.peers) p?.send.onTick(at, TIMEOUT_BURST);
  }

  /** Failure detection and the election timeout, judged as `judged` says. */
  private membershipTimers(now: number): void {
    this.stall.observe(
      now,
      this.wakeAt,
      this.membership.heartbeatMs / 2,
      this.membership.maxOwnLagMs,
      // A shift made on waking from this stall (step) is part of its allowance.
      this.shiftedAt >= this.wakeAt ? this.shiftedMs : 0,
    );
    const judged = this.judged(now);
    // The leader's word about a peer counts unless our data to it is stuck with no word from
    // it since (we may be cut off from it while the leader is not): then only contact counts.
    // (A peer heard from within probeAfterMs cannot be stuck: no scan of its flight then.)
    const distrust = this.detector.distrust;
    const probeAfter = this.membership.probeAfterMs;
    for (const p of this.peers) {
      if (!p) continue;
      if (judged - p.heardAt <= probeAfter) {
        distrust[p.id] = false;
        continue;
      }
      const o = p.send.oldestSentAt();
      distrust[p.id] = o !== undefined && p.heardAt <= o && judged - o > probeAfter;
    }
    const probes = this.probes;
    // After a stall of ours, peers heard since it ended are judged without its allowance.
    const endedAt = this.stall.endedAt;
    const fresh = endedAt === Number.POSITIVE_INFINITY ? judged : this.judged(now, false);
    this.detector.tick(judged, this.healthOut, probes, fresh, endedAt);
    this.emitHealth();
    for (const pr of probes) this.ctrlTo(pr.to, pr.msg);
    if (probes.length !== 0) probes.length = 0;
    this.election.tick(now, this.elOut, judged);
  }

  /** Timers: call at (or after) `nextWake()`. */
  tick(now: number): void {
    this.step(now);
    this.sendTimers(now);
    this.membershipTimers(now);
    if (this.election.isLeader && now >= this.nextLeaderHb) {
      this.election.heartbeat(now, this.elOut);
      this.nextLeaderHb = now + this.membership.heartbeatMs;
    }
    this.afterEvent();
  }

  /** Lease changes: held while we lead with a valid lease (checked before anything else acts). */
  private noteLease(): void {
    const held = this.election.leaseHeld(this.lastStep);
    if (held === this.leaseShown) return;
    this.leaseShown = held;
    this.events.push({ type: "lease", held, term: this.election.term });
  }

  private noteLeader(): void {
    this.noteLease();
    const l = this.election.leader;
    // Compared as numbers (this runs twice per input): "no leader" whatever the term.
    if (l === this.shownLeader && (l === undefined || this.election.term === this.shownTerm))
      return;
    this.shownLeader = l;
    this.shownTerm = this.election.term;
    this.events.push({
      type: "leader",
      term: this.election.term,
      leader: this.election.leader ?? null,
    });
    if (this.election.isLeader) this.nextLeaderHb = this.lastStep;
  }

  /**
   * Planned stop of the leader: hand leadership to `to` (default: the first live member of
   * the view after us), which starts its election at once. We give up leadership and the lease
   * before the request leaves. Returns the successor, or undefined when we do not lead or no
   * live member can take over.
   */
  transferLeadership(now: number, to?: NodeId): NodeId | undefined {
    this.step(now);
    const members = this.mode.view.members;
    const target = to ?? members.find((m) => m !== this.id && this.detector.live(m));
    const ok =
      target !== undefined &&
      this.detector.live(target) &&
      this.election.transferTo(target, now, this.elOut);
    this.afterEvent();
    return ok ? target : undefined;
  }

  /**
   * A deadline judged at `judged` that fell due while we are behind on our input waits for
   * `caughtUp` (the shell reports it after its next read) or for the lag bound, not for a
   * timer that would fire again at once.
   */
  private lagged(x: number | undefined): number | undefined {
    if (x === undefined) return x;
    if (this.reportsCaughtUp && x <= this.lastStep && x > this.caughtUpAt)
      return x + this.membership.maxOwnLagMs;
    // After a stall of ours, a deadline in judged time falls due later on the clock.
    return x + this.stall.extra(this.lastStep);
  }

  nextWake(): number | undefined {
    // The earliest of the timers (no closure: this runs after every input).
    let t = this.lagged(this.election.nextWake()) as number;
    // The lease's end, to report it lapsed (leader-only services stop).
    if (this.leaseShown) {
      const l = this.election.leaseUntil;
      if (l !== undefined && l < t) t = l;
    }
    const d = this.lagged(this.detector.nextWake());
    if (d !== undefined && d < t) t = d;
    if (this.election.isLeader && this.nextLeaderHb < t) t = this.nextLeaderHb;
    const m = this.mode.nextWake?.();
    if (m !== undefined && m < t) t = m;
    // Rounds that stop coming bring the followers' heartbeats back (heartbeatInterval).
    const fresh = this.roundsFresh();
    if (fresh) {
      const stale = this.lastRoundAt + this.membership.heartbeatMs * FOLLOWER_HEARTBEAT;
      if (stale < t) t = stale;
    }
    for (const p of this.peers) {
      if (!p) continue;
      // A deadline not yet judged (we are behind on input: sendTimers) is in the past: we wake
      // at once, and the shell reads its socket again and reports how far it got.
      const r = p.send.deadline();
      if (r !== undefined && r < t) t = r;
      const h = Math.min(p.lastSent + this.heartbeatInterval(p, fresh), p.reackAt);
      if (h < t) t = h;
    }
    this.wakeAt = t === undefined ? Number.POSITIVE_INFINITY : Math.max(t, this.lastStep);
    return t;
  }

  /** `fresh`: roundsFresh(), when the caller has it already (one check for all the peers). */
  private heartbeatInterval(p: Peer, fresh?: boolean): number {
    if (!this.detector.live(p.id)) return this.membership.deadProbeMs;
    // The leader vouches for the others in its rounds: a keepalive to them is enough. When
    // the rounds stop, every follower heartbeats every member again at once.
    if (p.id !== this.election.leader && (fresh ?? this.roundsFresh()))
      return this.membership.heartbeatMs * FOLLOWER_KEEPALIVE;
    // A follower answers each of the live leader's rounds (one every heartbeatMs) and its other
    // heartbeats leave with that answer (alignHeartbeats): its own timer only stands in for a
    // lost round, later than the next round is due, so the two do not race.
    const l = this.election.leader;
    if (l !== undefined && l !== this.id && this.detector.live(l))
      return this.membership.heartbeatMs * FOLLOWER_HEARTBEAT;
    return this.membership.heartbeatMs;
  }

  // ---------------------------------------------------------------- outputs

  /** Our identity on the wire for the bundler (the incarnation changes when we rejoin). */
  private readonly wire = ((node: RmNode) => ({
    get id(): NodeId {
      return node.id;
    },
    get inc(): Incarnation {
      return node.incarnation;
    },
    get maxDatagram(): number {
      return node.limits.maxDatagram;
    },
    sent(bytes: number): void {
      node.st.datagramsSent++;
      node.st.bytesSent += bytes;
    },
  }))(this);

  /** Collect what the events so far produced: frames to send, events. Changes no protocol state. */
  drain(now: number): DrainResult {
    // Nothing to send or report: the shared empty lists (frozen) are handed out. (Each peer's
    // due check runs once: the simulator's hot path is drainReused, this list is cheap.)
    let datagrams: OutDatagram[] = [];
    this.collectFrames(now, datagrams);
    if (datagrams.length === 0) datagrams = NO_DATAGRAMS;
    let events = NO_EVENTS;
    if (this.events.length > 0) {
      events = this.events;
      this.events = [];
    }
    const res: DrainResult = { datagrams, events };
    if (this.election.dirty) {
      this.election.dirty = false;
      res.persist = this.election.hard();
    }
    return res;
  }

  /**
   * Whether `drain` sends `p` a frame now: NO_FRAME, else FRAME plus HEARTBEAT (a frame is
   * due even with nothing in it) and TRAFFIC (data, an ack or a repeated ack: not only
   * control messages and heartbeats).
   */
  private frameDue(p: Peer, now: number): number {
    // A repeated ack (reackAt) is traffic: it goes as a frame of its own, like an ack.
    const reack = now >= p.reackAt;
    const heartbeat = reack || now >= p.lastSent + this.heartbeatInterval(p);
    const traffic = reack || p.send.hasDue() || p.recv.ackPending;
    if (!traffic && !heartbeat && p.ctrl.length === 0 && p.noteCtrl === undefined) return NO_FRAME;
    return FRAME | (heartbeat ? HEARTBEAT : 0) | (traffic ? TRAFFIC : 0);
  }

  /** The frames `drain` and `drainReused` hand out (heartbeats aligned when there is no traffic). */
  private collectFrames(now: number, datagrams: OutDatagram[]): void {
    let traffic = false;
    for (const p of this.peers) {
      if (!p) continue;
      const due = this.frameDue(p, now);
      if (due === NO_FRAME) continue;
      if ((due & TRAFFIC) !== 0) traffic = true;
      this.frameTo(p, now, (due & HEARTBEAT) !== 0, datagrams);
    }
    if (datagrams.length > 0 && !traffic) this.alignHeartbeats(now, datagrams);
  }

  /**
   * `drain` for a shell that uses the result at once, before it hands the node anything else
   * (the simulator): the same output, in a result object and lists the node reuses. They are
   * valid until the next `drain` or `drainReused`; nothing is allocated for them.
   */
  drainReused(now: number): DrainResult {
    const res = this.reused;
    const datagrams = res.datagrams;
    if (datagrams.length !== 0) datagrams.length = 0;
    this.collectFrames(now, datagrams);
    // The events collected so far go out; the list handed out last time collects the next.
    const events = this.events;
    const spare = res.events === NO_EVENTS ? [] : res.events;
    if (spare.length !== 0) spare.length = 0;
    this.events = spare;
    res.events = events;
    res.persist = undefined;
    if (this.election.dirty) {
      this.election.dirty = false;
      res.persist = this.election.hard();
    }
    return res;
  }

  /** What `drainReused` hands out. */
  private readonly reused: DrainResult = { datagrams: [], events: NO_EVENTS, persist: undefined };

  /** One frame (or more) to `p`, carrying the report that waited for it. */
  private frameTo(p: Peer, now: number, heartbeat: boolean, datagrams: OutDatagram[]): void {
    if (p.lazyCtrl !== undefined) {
      p.ctrl.push(p.lazyCtrl);
      p.lazyCtrl = undefined;
    }
    if (p.noteCtrl !== undefined) {
      p.ctrl.push(p.noteCtrl);
      p.noteCtrl = undefined;
    }
    bundle(this.wire, p, now, heartbeat, datagrams);
  }

  /**
   * Heartbeats leave together: once a drain without data or acks (heartbeats, control: an
   * answer to the leader's round) sends anything, every live peer at least half-way to its
   * next heartbeat gets it now. Idle, a node then wakes about once per heartbeat interval
   * instead of once per peer, and its peers' frames to one receiver arrive together. Drains
   * with traffic do not align: frames to some peers only (a total-order follower's to its
   * leader) would otherwise double the heartbeats to the others.
   */
  private alignHeartbeats(now: number, datagrams: OutDatagram[]): void {
    for (const p of this.peers) {
      if (!p || p.lastSent === now || !this.detector.live(p.id)) continue;
      // Half-way to a heartbeat, or within one heartbeat interval of a keepalive.
      const hb = this.membership.heartbeatMs;
      if (now < p.lastSent + Math.max(hb / 2, this.heartbeatInterval(p) - hb)) continue;
      this.frameTo(p, now, true, datagrams);
    }
  }

  private waitingNotice(): void {
    let key = this.mode.waitingReason() ?? "";
    if (key === "waiting for leader") {
      const c = this.detector.counts();
      key = `waiting for leader: ${c.alive + c.suspect} of ${this.hostCount} up, need ${this.membership.quorum}`;
    }
    if (key === this.waitingShown) return;
    if (key) this.events.push({ type: "notice", level: "warn", msg: key });
    this.waitingShown = key;
  }

  // ---------------------------------------------------------------- introspection

  heldBack(): HeldMessage[] {
    return this.mode.heldBack();
  }

  /** Own message `seq`: how many peers have acknowledged it (all of them once released). */
  ackedBy(seq: MsgSeq): number {
    return this.ackCount.get(seq) ?? this.ackTargets;
  }

  status(): NodeStatus {
    return {
      term: this.election.term,
      role: this.election.role,
      leader: this.election.leader,
      leaseUntil: this.election.leaseUntil,
      view: this.mode.view,
    };
  }

  health(p: NodeId): Health {
    return this.detector.state(p);
  }

  stats(): NodeStats {
    let unacked = 0;
    let retransmissions = 0;
    let fast = 0;
    let duplicates = 0;
    const peers: PeerStats[] = [];
    for (const p of this.peers) {
      if (!p) continue;
      unacked += p.send.queued;
      retransmissions += p.send.retransmissions;
      fast += p.send.fastRetransmissions;
      duplicates += p.recv.duplicates;
      peers.push({
        id: p.id,
        up: this.detector.live(p.id),
        health: this.detector.state(p.id),
        incarnation: p.knownInc,
        queued: p.send.queued,
        inFlight: p.send.inFlight,
        srttMs: p.send.rto.smoothedRtt,
        rtoMs: p.send.rto.rto,
      });
    }
    return {
      ...this.st,
      dropped: { ...this.st.dropped },
      unacked,
      heldBack: this.mode.heldCount,
      retransmissions: retransmissions + fast,
      fastRetransmissions: fast,
      duplicates,
      peers,
    };
  }

  /** Buffered state (for boundedness checks): unacked entries, out-of-order entries, held-back messages. */
  buffered(): {
    unacked: number;
    outOfOrder: number;
    heldBack: number;
    log: number;
    retained: number;
  } {
    let unacked = 0;
    let outOfOrder = 0;
    for (const p of this.peers) {
      if (!p) continue;
      unacked += p.send.queued;
      outOfOrder += p.recv.buffered;
    }
    return {
      unacked,
      outOfOrder,
      heldBack: this.mode.heldCount,
      log: this.mode.logSize,
      retained: this.mode.retained,
    };
  }

  /** Buffered state towards / from one peer: our unacked entries, its out-of-order entries. */
  peerBuffered(peer: NodeId): { unacked: number; outOfOrder: number } | undefined {
    const p = this.peers[peer];
    return p ? { unacked: p.send.queued, outOfOrder: p.recv.buffered } : undefined;
  }
}
