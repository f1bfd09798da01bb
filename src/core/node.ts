import { type AppMsg, type ChatMsg, decodeApp, encodeApp } from "./app-message.js";
import { type Ctrl, decodeCtrl, encodeCtrl } from "./ctrl.js";
import { defaultMembership, type MembershipConfig } from "./membership/config.js";
import {
  FailureDetector,
  type Health,
  type HealthChange,
  type ProbeCtrl,
} from "./membership/detector.js";
import { Election, type ElectionOut, type HardState } from "./membership/election.js";
import { NO_VIEW, newerView, nextView, type View } from "./membership/view.js";
import type {
  DrainResult,
  DropReason,
  NodeEvent,
  NodeStats,
  NodeStatus,
  OutDatagram,
  PeerStats,
  SendResult,
} from "./node-types.js";
import {
  type Delivery,
  type HeldMessage,
  makeOrderLayer,
  type OrderFactory,
  type OrderLayer,
} from "./order/index.js";
import { SenderIntake } from "./order/intake.js";
import type { LogMsg } from "./order/log-messages.js";
import { Stability } from "./order/stability.js";
import { TotalLog } from "./order/total-log.js";
import { Peer } from "./peer.js";
import type { Incarnation, MsgSeq, NodeId, Ordering, ProtocolLimits } from "./types.js";
import {
  type DataEntry,
  decodeFrame,
  ENTRY_OVERHEAD,
  encodeFrame,
  FLAG_MORE,
  FRAME_OVERHEAD,
} from "./wire.js";

export * from "./node-types.js";

/** Largest datagram UDP over IPv4 can carry; anything above is dropped unread. */
export const MAX_UDP_PAYLOAD = 65507;
/** Entries resent at most per peer on one retransmission timeout. */
const TIMEOUT_BURST = 64;

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
  /** Builds the fifo/causal order layer; tests inject broken layers here. */
  makeOrder?: OrderFactory;
  /** The time at creation (timers start from it). */
  now?: number;
}

/**
 * One rmchat process as a pure state machine: feed it datagrams, ticks and user sends
 * with the current time; take frames to send, deliveries, events and the next wake-up.
 */
export class RmNode {
  readonly id: NodeId;
  incarnation: Incarnation;
  readonly ordering: Ordering;
  private readonly hostCount: number;
  private readonly limits: ProtocolLimits;
  readonly membership: MembershipConfig;
  private readonly peers: Array<Peer | undefined> = [];
  private order: OrderLayer | undefined;
  private readonly log: TotalLog | undefined;
  /** fifo/causal: per sender, the next seq to hand to the order layer (0: set by the first one). */
  private intake: SenderIntake;
  private readonly stability: Stability;
  private readonly detector: FailureDetector;
  private readonly election: Election;
  private view: View = NO_VIEW;
  private readonly fragSize: number;
  private readonly makeOrder: OrderFactory;
  private ownSeq: MsgSeq = 0;
  private readonly ackCount = new Map<MsgSeq, number>();
  private deliveries: Delivery[] = [];
  private events: NodeEvent[] = [];
  private released: number[] = [];
  private readonly complete: Uint8Array[] = [];
  private readonly elOut: ElectionOut = [];
  private lastStep: number;
  private readonly startedAt: number;
  private nextRelease = 0;
  /** When each sender was first seen outside the installed view (relay buffers are let go later). */
  private readonly senderGoneAt: Array<number | undefined> = [];
  private nextLeaderHb = 0;
  private shownLeader = "";
  private waitingShown = "";
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
    this.membership = { ...defaultMembership(opts.hostCount), ...opts.membership };
    this.fragSize = Math.max(64, opts.limits.maxDatagram - FRAME_OVERHEAD - ENTRY_OVERHEAD);
    this.makeOrder = opts.makeOrder ?? makeOrderLayer;
    this.lastStep = now;
    this.startedAt = now;
    for (let p = 0; p < opts.hostCount; p++)
      this.peers.push(p === opts.id ? undefined : new Peer(p, opts.limits));
    this.detector = new FailureDetector(opts.id, opts.hostCount, this.membership);
    this.order = this.makeOrder(opts.ordering, opts.id, opts.hostCount);
    if (!this.order) {
      this.log = new TotalLog({
        self: opts.id,
        hostCount: opts.hostCount,
        incarnation: opts.incarnation,
        cfg: this.membership,
        term: () => this.election.term,
        isLeader: () => this.election.isLeader,
        leader: () => this.election.leader,
        members: () => this.view.members,
        // Members, and every host not gone for long: a node cut off by a partition, or a late
        // start, comes back as the same life and is owed what it missed.
        retained: (p) => {
          const q = this.peers[p];
          return (
            q !== undefined &&
            (this.view.members.includes(p) || !this.goneForLong(q, this.lastStep))
          );
        },
        retainLimit: opts.limits.maxBacklog,
        batchBytes: Math.max(1024, opts.limits.maxMessageBytes / 2),
        send: (to, msg) => this.unicast(to, msg),
        observeTerm: (term) => this.election.observeTerm(term, this.lastStep),
        observeLeader: (from, term) => this.election.observeLeader(from, term, this.lastStep),
      });
    }
    this.stability = new Stability(opts.id, opts.hostCount);
    this.intake = new SenderIntake(opts.hostCount, opts.limits.maxBacklog);
    const log = this.log;
    this.election = new Election(
      opts.id,
      opts.hostCount,
      this.membership,
      opts.random,
      opts.hard ?? { term: 0, votedFor: -1 },
      now,
      () =>
        log ? { lastIndex: log.lastIndex, lastTerm: log.lastTerm } : { lastIndex: 0, lastTerm: 0 },
    );
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
    const seq = this.ownSeq + 1;
    if (this.log) {
      if (this.log.pendingCount >= this.limits.maxBacklog) {
        return {
          ok: false,
          error: `send backlog full: ${this.log.pendingCount} messages wait for the total order`,
        };
      }
      this.ownSeq = seq;
      this.st.messagesSent++;
      this.log.own(seq, text);
      return { ok: true, seq };
    }
    const order = this.order as OrderLayer;
    const msg: ChatMsg = { kind: "chat", from: this.id, seq, text, vc: order.stamp(seq) };
    const bytes = encodeApp(msg);
    const frags = Math.max(1, Math.ceil(bytes.length / this.fragSize));
    for (const p of this.peers) {
      if (p && !p.send.hasRoom(frags)) {
        return {
          ok: false,
          error: `send backlog full: node ${p.id} has ${p.send.queued} unacknowledged fragments (limit ${this.limits.maxBacklog})`,
        };
      }
    }
    this.ownSeq = seq;
    for (const p of this.peers) if (p) this.enqueue(p, bytes, seq);
    this.st.messagesSent++;
    if (this.hostCount > 1) this.ackCount.set(seq, 0);
    order.own(msg, this.deliveries);
    return { ok: true, seq };
  }

  private enqueue(p: Peer, bytes: Uint8Array, tag: number): void {
    const n = Math.max(1, Math.ceil(bytes.length / this.fragSize));
    for (let i = 0; i < n; i++) {
      const chunk = n === 1 ? bytes : bytes.subarray(i * this.fragSize, (i + 1) * this.fragSize);
      p.send.enqueue(i < n - 1 ? FLAG_MORE : 0, chunk, i === n - 1 ? tag : 0);
    }
  }

  private unicast(to: NodeId, msg: AppMsg | LogMsg): void {
    const p = this.peers[to];
    if (p) this.enqueue(p, encodeApp(msg as AppMsg), 0);
  }

  private drop(reason: DropReason): false {
    this.st.dropped[reason] = (this.st.dropped[reason] ?? 0) + 1;
    return false;
  }

  /** Stall awareness and lease check, before anything else happens at `now`. */
  private step(now: number): void {
    const gap = now - this.lastStep;
    const expected = this.membership.heartbeatMs;
    if (gap > 3 * expected) {
      // We were frozen (event-loop stall, SIGSTOP): do not blame the peers for our silence.
      this.detector.stalled(gap - expected);
      this.election.stalled(gap - expected);
    }
    if (now > this.lastStep) this.lastStep = now;
    this.election.checkLease(now);
    this.noteLeader();
  }

  /**
   * A datagram arrived. `source` is the id whose configured address and port it came
   * from (undefined when the address is not in the host list). Returns false when the
   * datagram was dropped (and counted in `stats().dropped`).
   */
  receive(now: number, source: NodeId | undefined, bytes: Uint8Array): boolean {
    this.step(now);
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
    if (f.inc < p.knownInc) return this.drop("stale-incarnation");
    if (f.inc > p.knownInc) {
      if (p.knownInc !== 0) {
        // A new life of the peer: its old process is gone, and so is what we owed it.
        p.resetChannels();
        this.relayOldLife(p.id);
        this.newSenderLife(p.id, f.inc);
        // Tell the new life where our numbering stands: what came before is not owed to it.
        if (this.order && this.ownSeq > 0)
          this.unicast(p.id, { kind: "base", next: this.ownSeq + 1 });
        this.events.push({ type: "peer", peer: p.id, state: "restarted", incarnation: f.inc });
      } else {
        // First news of this peer; if relays already brought us an earlier life, start over.
        const life = this.intake.lifeOf(p.id);
        if (life !== 0 && life !== f.inc) this.newSenderLife(p.id, f.inc);
        p.send.kick(now);
        this.events.push({ type: "peer", peer: p.id, state: "up", incarnation: f.inc });
      }
      p.knownInc = f.inc;
      p.recv.ackPending = true;
    }
    this.healthChanges((out) => this.detector.heard(p.id, now, out));
    const forMe = f.toInc === this.incarnation;
    if (f.ack && forMe) this.onAck(p, f.ack, now);
    if (forMe) {
      if (p.recv.skipTo(f.base, this.complete)) this.onGap(p);
      for (const d of f.data) p.recv.receive(d.seq, d.flags, d.payload, this.complete);
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
    this.afterElection();
    return true;
  }

  private onAck(p: Peer, ack: { cum: number; sacks: Array<[number, number]> }, now: number): void {
    const released = this.released;
    p.send.onAck(now, ack, released);
    for (const seq of released) {
      const k = (this.ackCount.get(seq) ?? 0) + 1;
      if (k >= this.hostCount - 1) this.ackCount.delete(seq);
      else this.ackCount.set(seq, k);
      this.events.push({ type: "acked", seq, peer: p.id, by: k });
    }
    released.length = 0;
  }

  /** The peer abandoned messages for us (we were out of its view). */
  private onGap(p: Peer): void {
    if (this.log) return; // total order: the log repairs itself from the leader
    this.events.push({
      type: "notice",
      level: "warn",
      msg: `node ${p.id} dropped messages for us while we were out of the view; rejoining as a new member`,
    });
    this.rejoin();
  }

  /** Start over as a new incarnation (what SWIM calls refuting by incarnation). */
  private rejoin(): void {
    this.incarnation++;
    for (const q of this.peers) q?.resetChannels();
    this.order = this.makeOrder(this.ordering, this.id, this.hostCount);
    this.intake = new SenderIntake(this.hostCount, this.limits.maxBacklog);
    this.ownSeq = 0;
    this.ackCount.clear();
    this.complete.length = 0;
  }

  /** A sender's new life: forget its old one in the intake, order layer and relay buffers. */
  private newSenderLife(k: NodeId, inc: number): void {
    this.order?.peerReset(k);
    this.intake.newLife(k, inc);
    this.stability.forget(k);
  }

  /** The sender's old life ended (it restarted): pass on what members may lack of it. */
  private relayOldLife(k: NodeId): void {
    if (!this.order) return;
    const targets = new Set(this.view.members);
    for (const q of this.peers) if (q && q.id !== k && this.detector.live(q.id)) targets.add(q.id);
    for (const { to, r } of this.stability.relays(k, [...targets])) {
      this.unicast(to, { kind: "relay", inc: r.inc, msg: r.msg });
    }
  }

  /** Hand a sender's message to the order layer through the intake (once, in order, one life). */
  private take(m: ChatMsg, inc: number): void {
    if (this.intake.take(m, inc, this.pass) !== "ok") this.drop("stale-incarnation");
  }

  /** One function for every message (no closure per message on the hot path). */
  private readonly pass = (m: ChatMsg, inc: number): void => {
    if ((this.order as OrderLayer).remote(m, this.deliveries) !== "ok") this.drop("protocol-error");
    this.stability.keep(m, inc, this.lastStep);
  };

  private onMessages(p: Peer): void {
    const complete = this.complete;
    for (const bytes of complete) {
      const m = decodeApp(p.id, bytes, this.hostCount);
      if (!m) {
        this.drop("bad-message");
        continue;
      }
      this.onApp(p, m);
    }
    complete.length = 0;
  }

  private onApp(p: Peer, m: AppMsg): void {
    switch (m.kind) {
      case "chat":
        if (!this.order) return void this.drop("protocol-error");
        this.take(m, p.knownInc);
        return;
      case "base": {
        // We are a new life to this sender: its numbering starts at `next` for us.
        if (!this.order) return;
        const order = this.order;
        this.intake.setBase(p.id, m.next, p.knownInc, this.pass, () => order.setBase(p.id, m.next));
        return;
      }
      case "relay":
        // The intake checks the sender's life (a relay may be our first news of the sender).
        if (!this.order) return void this.drop("protocol-error");
        this.take(m.msg, m.inc);
        return;
      case "view":
        if (m.term < this.election.term || !newerView(m, this.view)) return;
        this.election.observeLeader(p.id, m.term, this.lastStep);
        this.install({ term: m.term, version: m.version, members: m.members });
        return;
      case "submit":
        if (!this.log) return void this.drop("protocol-error");
        this.log.onSubmit(p.id, p.knownInc, m);
        return;
      case "append":
        if (!this.log) return void this.drop("protocol-error");
        this.log.onAppend(p.id, m, this.deliveries);
        return;
      case "append-resp":
        if (!this.log) return void this.drop("protocol-error");
        this.log.onAppendResp(p.id, m);
        return;
      default:
        m satisfies never;
    }
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
        if (c.origin === this.id)
          this.healthChanges((out) => this.detector.heard(c.target, now, out));
        else if (from === c.target) this.ctrlTo(c.origin, c);
        return;
      case "stable":
        this.stability.report(from, c.delivered, c.incs);
        return;
      case "leader-ack":
        this.election.receive(from, c, now, this.elOut);
        // A member whose view is not ours missed a view message (a new life, say): resend it.
        if (this.election.isLeader && c.view && this.view.members.includes(from)) {
          const [t, v] = c.view;
          if (t !== this.view.term || v !== this.view.version) this.resendView(from, now);
        }
        this.flushElection();
        return;
      default:
        this.election.receive(from, c, now, this.elOut);
        this.flushElection();
    }
  }

  private resendView(to: NodeId, now: number): void {
    const p = this.peers[to];
    if (!p || now < p.viewResentAt + 5 * this.membership.heartbeatMs) return;
    p.viewResentAt = now;
    this.unicast(to, { kind: "view", ...this.view });
  }

  private ctrlTo(to: NodeId, c: Ctrl): void {
    this.peers[to]?.ctrl.push(encodeCtrl(c));
  }

  private flushElection(): void {
    for (const o of this.elOut) {
      if (o.msg.t === "leader-ack" && o.msg.term === this.election.term) {
        o.msg.view = [this.view.term, this.view.version];
      }
      // "all" means the live peers: the others get a slow heartbeat until they answer.
      if (o.to === "all") {
        const enc = encodeCtrl(o.msg);
        for (const p of this.peers) if (p && this.detector.live(p.id)) p.ctrl.push(enc);
      } else this.ctrlTo(o.to, o.msg);
    }
    this.elOut.length = 0;
  }

  private healthChanges(fn: (out: HealthChange[]) => void): void {
    const out: HealthChange[] = [];
    fn(out);
    for (const h of out) {
      this.events.push({ type: "health", peer: h.peer, from: h.from, to: h.to });
      const p = this.peers[h.peer];
      if (p) p.deadSince = h.to === "dead" ? this.lastStep : undefined;
    }
  }

  /** Dead (or never heard from) for longer than `releaseAfterMs`: nothing is kept for it any more. */
  private goneForLong(p: Peer, now: number): boolean {
    if (this.detector.live(p.id)) return false;
    const since = p.deadSince ?? (p.knownInc === 0 ? this.startedAt : now);
    return now >= since + this.membership.releaseAfterMs;
  }

  /** Timers: call at (or after) `nextWake()`. */
  tick(now: number): void {
    this.step(now);
    for (const p of this.peers) p?.send.onTick(now, TIMEOUT_BURST);
    const probes: Array<{ to: NodeId; msg: ProbeCtrl }> = [];
    this.healthChanges((out) => this.detector.tick(now, out, probes));
    for (const pr of probes) this.ctrlTo(pr.to, pr.msg);
    this.releaseDeparted(now);
    this.election.tick(now, this.elOut);
    if (this.election.isLeader && now >= this.nextLeaderHb) {
      this.election.heartbeat(now, this.elOut);
      this.nextLeaderHb = now + this.membership.heartbeatMs;
    }
    this.flushElection();
    this.afterElection();
  }

  private afterElection(): void {
    this.noteLeader();
    if (this.election.isLeader && this.nextLeaderHb === Number.POSITIVE_INFINITY)
      this.nextLeaderHb = 0;
  }

  private leaseShown = false;

  /** Lease changes: held while we lead with a valid lease (checked before anything else acts). */
  private noteLease(): void {
    const held = this.election.isLeader && this.lastStep < this.election.leaseUntil;
    if (held === this.leaseShown) return;
    this.leaseShown = held;
    this.events.push({ type: "lease", held, term: this.election.term });
  }

  private noteLeader(): void {
    this.noteLease();
    const l = this.election.leader;
    const key = l === undefined ? "none" : `${this.election.term}/${l}`;
    if (key === this.shownLeader) return;
    this.shownLeader = key;
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
    const target = to ?? this.view.members.find((m) => m !== this.id && this.detector.live(m));
    if (target === undefined || !this.detector.live(target)) return undefined;
    if (!this.election.transferTo(target, now, this.elOut)) return undefined;
    this.flushElection();
    this.afterElection();
    return target;
  }

  nextWake(): number | undefined {
    let t = this.election.nextWake();
    const consider = (x: number | undefined): void => {
      if (x !== undefined && x < t) t = x;
    };
    consider(this.detector.nextWake());
    if (this.election.isLeader) consider(this.nextLeaderHb);
    for (const p of this.peers) {
      if (!p) continue;
      if (p.leftAt !== undefined) consider(p.leftAt + this.membership.releaseAfterMs);
      consider(p.send.deadline());
      consider(p.lastSent + this.heartbeatInterval(p));
    }
    return t;
  }

  private heartbeatInterval(p: Peer): number {
    return this.detector.live(p.id) ? this.membership.heartbeatMs : this.membership.deadProbeMs;
  }

  // ---------------------------------------------------------------- views

  private install(v: View): void {
    const old = this.view;
    this.view = v;
    for (const m of v.members) {
      const p = this.peers[m];
      if (p) p.leftAt = undefined;
    }
    for (const m of old.members) {
      const p = this.peers[m];
      if (p && !v.members.includes(m)) p.leftAt = this.lastStep;
    }
    // Senders outside the view may have died mid-multicast: pass on what members lack.
    for (let k = 0; k < this.hostCount; k++) {
      if (k === this.id) continue;
      if (v.members.includes(k)) {
        this.senderGoneAt[k] = undefined;
        continue;
      }
      this.senderGoneAt[k] ??= this.lastStep;
      for (const { to, r } of this.stability.relays(k, v.members)) {
        this.unicast(to, { kind: "relay", inc: r.inc, msg: r.msg });
      }
    }
    this.events.push({ type: "view", term: v.term, version: v.version, members: [...v.members] });
  }

  /** A member that left the view long enough ago: release what we held for it. */
  private releaseDeparted(now: number): void {
    for (const p of this.peers) {
      if (!p || p.leftAt === undefined || now < p.leftAt + this.membership.releaseAfterMs) continue;
      p.leftAt = undefined;
      const n = p.send.abandon();
      if (n > 0)
        this.events.push({
          type: "notice",
          level: "info",
          msg: `released ${n} fragments held for departed node ${p.id}`,
        });
    }
  }

  private updateView(): void {
    if (!this.election.isLeader) return;
    const v = nextView(
      this.view,
      this.id,
      this.election.term,
      (p) => p === this.id || this.detector.live(p),
      this.hostCount,
    );
    if (!v) return;
    this.install(v);
    for (const m of v.members) if (m !== this.id) this.unicast(m, { kind: "view", ...v });
  }

  // ---------------------------------------------------------------- outputs

  /** Everything to do after the events so far: frames to send, deliveries, events. */
  drain(now: number): DrainResult {
    this.updateView();
    this.log?.sync(this.deliveries);
    this.waitingNotice();
    if (!this.log) this.stabilityReports(now);
    const datagrams: OutDatagram[] = [];
    for (const p of this.peers) {
      if (!p) continue;
      const heartbeat = now >= p.lastSent + this.heartbeatInterval(p);
      if (!p.send.hasDue() && !p.recv.ackPending && p.ctrl.length === 0 && !heartbeat) continue;
      this.framesFor(p, now, datagrams);
    }
    if (this.deliveries.length > 0) {
      for (const d of this.deliveries) this.events.push({ type: "deliver", ...d });
      this.st.delivered += this.deliveries.length;
      this.deliveries = [];
    }
    const events = this.events;
    this.events = [];
    const res: DrainResult = { datagrams, events };
    if (this.election.dirty) {
      this.election.dirty = false;
      res.persist = this.election.hard();
    }
    return res;
  }

  private stabilityReports(now: number): void {
    // Reports arrive once per heartbeat: releasing more often than that finds nothing new.
    if (now >= this.nextRelease) {
      this.nextRelease = now + this.membership.heartbeatMs;
      this.releaseStable(now);
    }
    let report: unknown[] | undefined;
    for (const p of this.peers) {
      if (!p || now < p.nextStable || !this.detector.live(p.id)) continue;
      if (!report) {
        const { received, incs } = this.intake.report();
        received[this.id] = this.ownSeq;
        incs[this.id] = this.incarnation;
        report = encodeCtrl({ t: "stable", delivered: received, incs });
      }
      p.ctrl.push(report);
      p.nextStable = now + this.membership.heartbeatMs;
    }
  }

  /** Let go of relay buffers that every owed host has, and of long-departed senders'. */
  private releaseStable(now: number): void {
    // Stable once every member, and every host not gone for long (a late start, or one cut off
    // by a partition, comes back as the same life), has it.
    const owed = [...this.view.members];
    for (const p of this.peers) {
      if (p && !owed.includes(p.id) && !this.goneForLong(p, now)) owed.push(p.id);
    }
    this.stability.release(
      owed,
      this.limits.maxBacklog,
      (k) => this.peers[k]?.knownInc ?? 0,
      now - this.membership.releaseAfterMs,
    );
    // A sender out of the view for long: its messages were relayed at each view change; let go.
    for (let k = 0; k < this.hostCount; k++) {
      const gone = this.senderGoneAt[k];
      if (gone !== undefined && now >= gone + this.membership.releaseAfterMs) {
        this.stability.forget(k);
        this.intake.dropEarly(k);
        this.senderGoneAt[k] = undefined;
      }
    }
  }

  private framesFor(p: Peer, now: number, out: OutDatagram[]): void {
    const due = p.send.takeDue();
    const budget = this.limits.maxDatagram - FRAME_OVERHEAD;
    let batch: DataEntry[] = [];
    let size = 0;
    let ctrl = p.ctrl;
    p.ctrl = [];
    const flush = (): void => {
      const bytes = encodeFrame({
        from: this.id,
        inc: this.incarnation,
        to: p.id,
        toInc: p.knownInc,
        ack: p.knownInc !== 0 || p.recv.ackPending ? p.recv.ack() : null,
        data: batch,
        base: p.send.base,
        ctrl,
      });
      ctrl = [];
      p.recv.ackPending = false;
      p.lastSent = now;
      out.push({ to: p.id, bytes });
      this.st.datagramsSent++;
      this.st.bytesSent += bytes.length;
      batch = [];
      size = 0;
    };
    for (const e of due) {
      if (!p.send.stillNeeded(e)) continue;
      const need = e.payload.length + ENTRY_OVERHEAD;
      if (batch.length > 0 && size + need > budget) flush();
      batch.push(e);
      size += need;
      p.send.sent(e, now);
    }
    if (
      batch.length > 0 ||
      p.recv.ackPending ||
      ctrl.length > 0 ||
      now >= p.lastSent + this.heartbeatInterval(p)
    )
      flush();
  }

  private waitingNotice(): void {
    if (!this.log) return;
    const waiting = this.log.pendingCount > 0 && this.election.leader === undefined;
    let key = "";
    if (waiting) {
      const c = this.detector.counts();
      key = `waiting for leader: ${c.alive + c.suspect} of ${this.hostCount} up, need ${this.membership.quorum}`;
    }
    if (key === this.waitingShown) return;
    if (key) this.events.push({ type: "notice", level: "warn", msg: key });
    this.waitingShown = key;
  }

  // ---------------------------------------------------------------- introspection

  heldBack(): HeldMessage[] {
    if (this.log) {
      const why =
        this.election.leader === undefined
          ? "a leader to order it"
          : `its order number from leader ${this.election.leader}`;
      return this.log
        .waiting()
        .map((m) => ({ from: this.id, seq: m.seq, text: m.text, waitingFor: why }));
    }
    return (this.order as OrderLayer).heldBack();
  }

  /** Own message `seq`: how many peers have acknowledged it (all of them once released). */
  ackedBy(seq: MsgSeq): number {
    if (seq > this.ownSeq) return 0;
    return this.ackCount.get(seq) ?? this.hostCount - 1;
  }

  status(): NodeStatus {
    return {
      term: this.election.term,
      role: this.election.role,
      leader: this.election.leader,
      leaseUntil: this.election.leaseUntil,
      view: this.view,
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
      heldBack: this.heldCount(),
      retransmissions: retransmissions + fast,
      fastRetransmissions: fast,
      duplicates,
      peers,
    };
  }

  private heldCount(): number {
    return this.log
      ? this.log.pendingCount + this.log.uncommitted
      : (this.order as OrderLayer).heldCount;
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
      heldBack: this.heldCount(),
      log: this.log?.size ?? 0,
      retained: this.stability.size,
    };
  }

  /** Buffered state towards / from one peer: our unacked entries, its out-of-order entries. */
  peerBuffered(peer: NodeId): { unacked: number; outOfOrder: number } | undefined {
    const p = this.peers[peer];
    return p ? { unacked: p.send.queued, outOfOrder: p.recv.buffered } : undefined;
  }
}
