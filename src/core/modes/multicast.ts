import {
  type AppMsg,
  type ChatMsg,
  encodeApp,
  type FlushOkMsg,
  type FlushReqMsg,
  type HistoryMsg,
  type InstallMsg,
} from "../app-message.js";
import type { StableCtrl } from "../ctrl.js";
import { hasMember, NO_VIEW, type View } from "../membership/view.js";
import type { SendResult } from "../node-types.js";
import type { Delivery, HeldMessage, OrderFactory, OrderLayer } from "../order/index.js";
import { SenderIntake } from "../order/intake.js";
import { Stability } from "../order/stability.js";
import { chunkHistory, type HistoryEntry, HistoryRing } from "../state/history.js";
import type { NodeId, Ordering } from "../types.js";
import { cutOf, newerViewId, relaysFor, sameViewId, type ViewId } from "../views/flush.js";
import { FlushLeader } from "../views/flush-leader.js";
import { StartBarrier } from "../views/start-barrier.js";
import type { ModeContext, OrderingMode, Position } from "./mode.js";

/** An install received; we deliver up to the cut, then install. */
interface Installing {
  msg: InstallMsg;
  /** Per sender of our old view: deliver exactly up to here. */
  cut: Map<NodeId, number>;
  /** The cut as a list, in the map's order (checked after every input while installing). */
  cutList: Array<[NodeId, number]>;
  /** The member that hands us the history (we are new), if any. */
  provider: NodeId | undefined;
}

/**
 * fifo and causal order over multicast, with extended virtual synchrony. Messages go straight
 * to every member of the installed view and are delivered as the order layer allows. A view
 * change is a flush (views/flush.ts): the leader asks the proposed members to stop and report,
 * then installs the new view with the reports; every member delivers exactly up to the same
 * cut (relays fill what a departed sender left half-sent), then installs. New members get the
 * recent history first. Own messages wait while we are outside a view or inside a flush.
 */
export class MulticastMode implements OrderingMode {
  view: View = NO_VIEW;
  private order: OrderLayer;
  private readonly intake: SenderIntake;
  private readonly stability: Stability;
  private readonly ring: HistoryRing;
  /** Own messages multicast by this life. */
  private mcastSeq = 0;
  /** Own messages not yet multicast (no view, or a flush in progress). */
  private blocked: string[] = [];
  /** The proposal we reported for: we hand on nothing more of the old view. */
  private frozen: ViewId | undefined;
  private installing: Installing | undefined;
  /** History chunks received for an install. */
  private historyIn: { id: ViewId; entries: HistoryEntry[]; done: boolean } | undefined;
  /** Everyone installed the view: own messages may go (a barrier, so nobody receives a
   * message of a view before it installed that view; views/start-barrier.ts). */
  private started = false;
  /** Which view each peer said it installed (`installed`, sent to every member). */
  private readonly barrier: StartBarrier;
  /**
   * Per host id, the number of its first message in our installed view (its report's
   * `next`; 0: not a member). A member sends in the view only once started, so a message
   * numbered from there proves that everyone installed the view: it starts us too, when
   * a member crashed after its `installed` reached that sender and before it reached us
   * (inferStart).
   */
  private viewFirst: number[] = [];
  /** The leader's side of view changes (views/flush-leader.ts). */
  private readonly leader: FlushLeader;
  private readonly out: Delivery[] = [];
  private nextStable = 0;

  constructor(
    private readonly ctx: ModeContext,
    private readonly mode: Ordering,
    private readonly makeOrder: OrderFactory,
  ) {
    this.order = this.newOrder();
    this.intake = new SenderIntake(ctx.hostCount, ctx.limits.maxBacklog);
    this.stability = new Stability(ctx.self, ctx.hostCount);
    this.ring = new HistoryRing(ctx.historyMessages);
    this.leader = new FlushLeader(ctx);
    this.barrier = new StartBarrier(ctx.hostCount);
  }

  private newOrder(): OrderLayer {
    const o = this.makeOrder(this.mode, this.ctx.self, this.ctx.hostCount);
    if (!o) throw new Error(`no order layer for ${this.mode}`);
    return o;
  }

  // ---------------------------------------------------------------- own messages

  private canSend(): boolean {
    return (
      this.started &&
      this.frozen === undefined &&
      this.installing === undefined &&
      hasMember(this.view, this.ctx.self, this.ctx.inc())
    );
  }

  send(text: string): SendResult {
    // Encoded: the text, its seq and (causal) a clock entry per host.
    const never = this.ctx.neverFits(Buffer.byteLength(text, "utf8") + 16 + 9 * this.ctx.hostCount);
    if (never) return { ok: false, error: never };
    if (this.blocked.length === 0 && this.canSend()) {
      const err = this.multicastNow(text);
      if (err) return { ok: false, error: err };
      return { ok: true, seq: this.mcastSeq };
    }
    if (this.blocked.length >= this.ctx.limits.maxBacklog) {
      return {
        ok: false,
        error: `send backlog full: ${this.blocked.length} messages wait for a view (limit ${this.ctx.limits.maxBacklog})`,
      };
    }
    this.blocked.push(text);
    return { ok: true, seq: this.mcastSeq + this.blocked.length };
  }

  private multicastNow(text: string): string | undefined {
    const seq = this.mcastSeq + 1;
    const msg: ChatMsg = {
      kind: "chat",
      from: this.ctx.self,
      seq,
      text,
      vc: this.order.stamp(seq),
    };
    const bytes = encodeApp(msg);
    // The view's lives: a member we now know as a newer life is gone (the new life gets the
    // history when a view admits it), so it is not sent this view's messages.
    const targets = this.view.members.filter(
      (m, i) => m !== this.ctx.self && this.ctx.knownInc(m) === this.view.incs[i],
    );
    const err = this.ctx.noRoom(targets, bytes.length);
    if (err) return err;
    this.mcastSeq = seq;
    this.ctx.multicast(targets, bytes, seq);
    this.ctx.emit({ type: "sent", seq, text });
    this.order.own(msg, this.out);
    this.flushOut();
    return undefined;
  }

  /** Multicast what waited, as far as the channels have room. */
  private unblock(): void {
    while (this.blocked.length > 0 && this.canSend()) {
      if (this.multicastNow(this.blocked[0] as string)) return;
      this.blocked.shift();
    }
  }

  // ---------------------------------------------------------------- deliveries

  private flushOut(): void {
    for (const d of this.out) {
      d.inc = d.from === this.ctx.self ? this.ctx.inc() : this.intake.lifeOf(d.from);
      this.ring.push({ from: d.from, inc: d.inc, seq: d.seq, text: d.text });
      this.ctx.deliver(d, false);
    }
    // Runs after every input: setting the length costs a runtime call even when empty.
    if (this.out.length !== 0) this.out.length = 0;
  }

  /** One function for every message (no closure per message on the hot path). */
  /** The admitted life of each sender (for stability; made once). */
  private readonly lifeOf = (k: NodeId): number => this.intake.lifeOf(k);

  private readonly pass = (m: ChatMsg, inc: number): void => {
    if (this.order.remote(m, this.out) !== "ok") this.ctx.protocolError();
    this.stability.keep(m, inc);
  };

  private take(m: ChatMsg, inc: number): void {
    if (this.ctx.unsafe.acceptOldLife && m.from === this.ctx.self) {
      // Negative control: a relay of our own earlier life's message is taken as news.
      this.out.push({ from: m.from, seq: m.seq, text: m.text });
      return;
    }
    if (m.from === this.ctx.self) return;
    if (this.intake.take(m, inc, this.pass) !== "ok") this.ctx.protocolError();
  }

  // ---------------------------------------------------------------- peers

  /** A message its sender sent in our installed view: the view has started (see viewFirst). */
  private inferStart(from: NodeId, fromInc: number, seq: number): void {
    if (this.frozen || this.installing) return;
    const first = this.viewFirst[from] ?? 0;
    if (first > 0 && seq >= first && hasMember(this.view, from, fromInc)) this.started = true;
  }

  onApp(from: NodeId, fromInc: number, m: AppMsg): void {
    switch (m.kind) {
      case "chat":
        if (!this.started) this.inferStart(from, fromInc, m.seq);
        this.take(m, fromInc);
        break;
      case "relay":
        this.take(m.msg, m.inc);
        break;
      case "flush-req":
        this.onFlushReq(from, m);
        break;
      case "flush-ok":
        this.onFlushOk(from, fromInc, m);
        break;
      case "install":
        this.onInstall(m);
        break;
      case "installed":
        this.barrier.installed(from, fromInc, m);
        this.tryStart();
        break;
      case "history":
        this.onHistory(m);
        break;
      default:
        this.ctx.protocolError();
        return;
    }
    this.flushOut();
    this.tryComplete();
  }

  /** Flow control: while a sender's messages wait (held at a flush cut), take no more of its
   * channel; it retransmits once they moved on. */
  accepting(k: NodeId): boolean {
    return !this.intake.full(k);
  }

  onStable(from: NodeId, received: number[], incs: number[]): void {
    this.stability.report(from, received, incs);
  }

  onPeerLife(): void {
    // The old life's messages now come by relays only; the new life waits in the intake
    // until a view admits it.
  }

  // ---------------------------------------------------------------- the flush, member side

  private onFlushReq(from: NodeId, m: FlushReqMsg): void {
    if (m.term < this.ctx.term()) return;
    const id: ViewId = { term: m.term, version: m.version };
    if (this.frozen && !newerViewId(id, this.frozen)) return;
    // A late request of an older leader (we may have installed a newer view before hearing
    // of its term): freezing for it would block our sends for good.
    if (this.view.members.length > 0 && !newerViewId(id, this.view)) return;
    if (!hasMember(m, this.ctx.self, this.ctx.inc())) return;
    // An install we could not finish is abandoned: we are still in our old view.
    this.installing = undefined;
    this.started = false;
    this.historyIn = undefined;
    this.frozen = id;
    const recv = new Array<number>(this.ctx.hostCount).fill(0);
    this.view.members.forEach((k, i) => {
      if (k === this.ctx.self) return;
      recv[k] = this.intake.received(k);
      // A sender that leaves: deliver nothing more of it until the cut is known (what we
      // refuse now, relays bring if the cut has it). A sender that stays stops in this view
      // when it reports, and sends in the next only once all installed it: everything we
      // get from it until then is within its own report, the cut.
      const stays = hasMember(m, k, this.view.incs[i] as number);
      this.intake.setLimit(k, stays ? Number.POSITIVE_INFINITY : (recv[k] as number), this.pass);
    });
    recv[this.ctx.self] = this.mcastSeq;
    const ok: FlushOkMsg = {
      kind: "flush-ok",
      term: m.term,
      version: m.version,
      old:
        this.view.members.length > 0 ? { term: this.view.term, version: this.view.version } : null,
      next: this.mcastSeq + 1,
      recv,
    };
    if (from === this.ctx.self) this.onFlushOk(from, this.ctx.inc(), ok);
    else this.ctx.unicast(from, ok);
  }

  private onInstall(m: InstallMsg): void {
    const id: ViewId = { term: m.term, version: m.version };
    if (!this.frozen || !sameViewId(id, this.frozen)) return;
    if (!hasMember(m, this.ctx.self, this.ctx.inc())) return;
    const mine = m.reports.find((r) => r.member === this.ctx.self);
    if (!mine || mine.inc !== this.ctx.inc()) return;
    const cut = new Map<NodeId, number>();
    let provider: NodeId | undefined;
    if (m.primary) {
      provider = m.reports.find((r) => sameViewId(r.old, m.primary))?.member;
    }
    if (mine.old && m.primary && !this.ctx.unsafe.skipFlush) {
      const senders = this.view.members.filter((k) => k !== this.ctx.self);
      const c = cutOf(m.reports, m.primary, senders);
      for (const [k, upTo] of c.upTo) cut.set(k, upTo);
      // Relay what members lack of the senders that leave (live senders' channels carry theirs).
      for (const r of relaysFor(this.ctx.self, m.reports, m.primary, c)) {
        const inc = this.view.incs[this.view.members.indexOf(r.sender)] as number;
        if (hasMember(m, r.sender, inc)) continue;
        for (const msg of this.stability.range(r.sender, inc, r.from, r.upTo))
          this.ctx.unicast(r.to, { kind: "relay", inc, msg });
      }
      for (const [k, upTo] of cut) this.intake.setLimit(k, upTo, this.pass);
    }
    this.installing = {
      msg: m,
      cut,
      cutList: [...cut],
      provider: mine.old === null && provider !== this.ctx.self ? provider : undefined,
    };
  }

  private onHistory(m: HistoryMsg): void {
    const id: ViewId = { term: m.term, version: m.version };
    // Only for the view we are joining: the rest of an abandoned view's history (another
    // provider's channel) may still arrive between this view's chunks, and must not replace them.
    if (!this.frozen || !sameViewId(this.frozen, id)) return;
    if (!this.historyIn || !sameViewId(this.historyIn.id, id))
      this.historyIn = { id, entries: [], done: false };
    for (const e of m.entries) this.historyIn.entries.push(e);
    this.historyIn.done = m.done;
  }

  /** Everything up to the cut is here (and the history, if we are new): install. */
  private tryComplete(): void {
    const ins = this.installing;
    if (!ins) return;
    const cutList = ins.cutList;
    for (let i = 0; i < cutList.length; i++) {
      // Indexed, not destructured: array destructuring may allocate an iterator.
      const e = cutList[i] as [NodeId, number];
      if (this.intake.received(e[0]) < e[1]) return;
    }
    const m = ins.msg;
    // (No object made before this check: it runs after every input while the history comes.)
    const h = this.historyIn;
    if (ins.provider !== undefined && (!h || !sameViewId(h.id, m) || !h.done)) return;
    const id: ViewId = { term: m.term, version: m.version };
    if (ins.provider !== undefined && h) {
      for (const e of h.entries) {
        this.ring.push(e);
        const d: Delivery = { from: e.from, inc: e.inc, seq: e.seq, text: e.text };
        this.ctx.deliver(d, true);
      }
    }
    this.historyIn = undefined;
    const old = this.view;
    const next: View = {
      term: m.term,
      version: m.version,
      members: [...m.members],
      incs: [...m.incs],
    };
    // What could not become deliverable by the cut never will: it goes, with the senders that left.
    this.order.discardHeld?.();
    for (let i = 0; i < old.members.length; i++) {
      const k = old.members[i] as NodeId;
      if (k === this.ctx.self || hasMember(next, k, old.incs[i] as number)) continue;
      this.intake.close(k);
      this.stability.forget(k);
      this.ctx.abandon(k, old.incs[i] as number);
    }
    this.view = next;
    this.frozen = undefined;
    this.installing = undefined;
    this.order.setMembers?.(next.members);
    this.ctx.installed(next);
    // Every new member's numbering first (a message may depend on another's first one), then
    // hand on what waited.
    this.viewFirst = new Array<number>(this.ctx.hostCount).fill(0);
    for (const r of m.reports)
      if (hasMember(next, r.member, r.inc)) this.viewFirst[r.member] = r.next;
    const fresh = (i: number): boolean =>
      next.members[i] !== this.ctx.self &&
      !hasMember(old, next.members[i] as NodeId, next.incs[i] as number);
    for (let i = 0; i < next.members.length; i++) {
      if (!fresh(i)) continue;
      const k = next.members[i] as NodeId;
      this.order.peerReset(k);
      this.order.setBase(k, this.viewFirst[k] || 1);
    }
    for (let i = 0; i < next.members.length; i++) {
      const k = next.members[i] as NodeId;
      if (k === this.ctx.self) continue;
      if (fresh(i)) this.intake.admit(k, next.incs[i] as number, this.viewFirst[k] || 1, this.pass);
      else this.intake.setLimit(k, Number.POSITIVE_INFINITY, this.pass);
    }
    this.flushOut();
    // The first member of the continuing group hands the history to the new ones.
    const provider = m.primary
      ? m.reports.find((r) => sameViewId(r.old, m.primary))?.member
      : undefined;
    if (provider === this.ctx.self) {
      const fresh = m.reports.filter((r) => r.old === null).map((r) => r.member);
      if (fresh.length > 0) this.sendHistory(fresh, id);
    }
    // Every member tells every other one (the barrier needs no leader: views/start-barrier.ts).
    const ready = { kind: "installed" as const, term: m.term, version: m.version };
    for (const k of next.members) if (k !== this.ctx.self) this.ctx.unicast(k, ready);
    this.tryStart();
  }

  /** Every other member installed our view: we may send in it. */
  private tryStart(): void {
    if (this.started || this.frozen || this.installing || this.view.members.length === 0) return;
    if (this.barrier.allInstalled(this.view, this.ctx.self)) this.started = true;
  }

  private sendHistory(to: NodeId[], id: ViewId): void {
    const chunks = chunkHistory(this.ring.entries(), this.ctx.limits.maxMessageBytes / 2);
    if (chunks.length === 0) chunks.push([]);
    for (const p of to) {
      chunks.forEach((entries, i) => {
        this.ctx.unicast(p, {
          kind: "history",
          term: id.term,
          version: id.version,
          done: i === chunks.length - 1,
          entries,
        });
      });
    }
  }

  // ---------------------------------------------------------------- the flush, leader side

  private onFlushOk(from: NodeId, fromInc: number, m: FlushOkMsg): void {
    const next = this.leader.onFlushOk(from, fromInc, m);
    if (next?.kind === "install") this.onInstall(next);
    else if (next) this.onFlushReq(this.ctx.self, next);
  }

  private lead(): void {
    const req = this.leader.lead(this.view);
    if (req) this.onFlushReq(this.ctx.self, req);
  }

  // ---------------------------------------------------------------- every event

  advance(): void {
    this.supersede();
    this.lead();
    this.stabilityRound();
    this.unblock();
    this.flushOut();
    this.tryComplete();
  }

  /**
   * A proposal of an older term whose install has not begun never installs: its leader lost
   * its term (crashed or cut off), and the new leader proposes anew. The limits it set on the
   * senders it left out would keep their channels shut for good (the new leader's request may
   * wait in one of them, behind that sender's messages): they are lifted, and the old
   * proposal's install is no longer taken (a new-term id with version 0 stands for it).
   */
  private supersede(): void {
    const f = this.frozen;
    const term = this.ctx.term();
    if (!f || this.installing || f.term >= term) return;
    this.frozen = { term, version: 0 };
    for (const k of this.view.members)
      if (k !== this.ctx.self) this.intake.setLimit(k, Number.POSITIVE_INFINITY, this.pass);
  }

  /** Stability reports to members once per heartbeat, and release what all members have. */
  private stabilityRound(): void {
    const now = this.ctx.now();
    if (now < this.nextStable) return;
    this.nextStable = now + this.ctx.cfg.heartbeatMs;
    this.stability.release(this.view.members, this.lifeOf);
    const members = this.view.members;
    if (members.length === 0) return;
    const { received, incs } = this.intake.report();
    received[this.ctx.self] = this.mcastSeq;
    incs[this.ctx.self] = this.ctx.inc();
    // One report, shared by the members (an indexed loop: no iterator per round); it rides
    // on the next frame to each (no datagram of its own).
    const report: StableCtrl = { t: "stable", delivered: received, incs };
    for (let i = 0; i < members.length; i++) {
      const k = members[i] as NodeId;
      if (k !== this.ctx.self && this.ctx.live(k)) this.ctx.report(k, report);
    }
  }

  reset(): boolean {
    this.view = NO_VIEW;
    this.order = this.newOrder();
    this.intake.clear();
    this.stability.clear();
    this.ring.clear();
    this.mcastSeq = 0;
    this.frozen = undefined;
    this.installing = undefined;
    this.historyIn = undefined;
    this.leader.reset();
    this.started = false;
    this.viewFirst = [];
    this.barrier.clear();
    this.out.length = 0;
    return false;
  }

  // ---------------------------------------------------------------- introspection

  position(): Position {
    return { lastIndex: this.view.version, lastTerm: this.view.term };
  }

  heldBack(): HeldMessage[] {
    const own = this.blocked.map((text, i) => ({
      from: this.ctx.self,
      seq: this.mcastSeq + i + 1,
      text,
      waitingFor: this.view.members.length === 0 ? "a view to join" : "the view change to finish",
    }));
    return [...own, ...this.order.heldBack()];
  }

  get heldCount(): number {
    return this.order.heldCount + this.blocked.length;
  }

  get retained(): number {
    return this.stability.size + this.intake.waiting;
  }

  get logSize(): number {
    return 0;
  }

  get pendingCount(): number {
    return this.blocked.length;
  }

  waitingReason(): string | undefined {
    if (this.blocked.length === 0) return undefined;
    if (this.view.members.length === 0) return "waiting for a view";
    return this.frozen || this.installing || !this.started
      ? "waiting for the view change"
      : undefined;
  }

  historyEntries(): HistoryEntry[] {
    return this.ring.entries();
  }
}
