import { type AppMsg, encodeApp } from "../app-message.js";
import type { LogCtrl } from "../ctrl.js";
import { hasMember, NO_VIEW, nextView, type View } from "../membership/view.js";
import type { SendResult } from "../node-types.js";
import type { Delivery, HeldMessage } from "../order/index.js";
import { TotalLog } from "../order/total-log.js";
import { type HistoryEntry, HistoryRing } from "../state/history.js";
import type { NodeId } from "../types.js";
import type { ModeContext, OrderingMode, Position } from "./mode.js";

/**
 * Total order: the replicated log (order/total-log.ts) with the leader as sequencer. Views
 * are log entries too: applying one installs it, so every member delivers the same messages
 * in the same views, and a new member starts from a snapshot (state transfer) at the view
 * that admitted it, with the recent past as history.
 */
export class TotalMode implements OrderingMode {
  view: View = NO_VIEW;
  private log: TotalLog;
  private readonly ring: HistoryRing;
  private ownSeq = 0;
  private readonly out: Delivery[] = [];

  constructor(private readonly ctx: ModeContext) {
    this.ring = new HistoryRing(ctx.historyMessages);
    this.log = this.newLog();
  }

  private newLog(): TotalLog {
    const ctx = this.ctx;
    return new TotalLog({
      self: ctx.self,
      hostCount: ctx.hostCount,
      incarnation: ctx.inc(),
      cfg: ctx.cfg,
      term: () => ctx.term(),
      isLeader: () => ctx.isLeader(),
      leader: () => ctx.leader(),
      retainLimit: ctx.limits.maxBacklog,
      batchBytes: Math.max(1024, ctx.limits.maxMessageBytes / 2),
      send: (to, msg) => ctx.unicast(to, msg),
      stored: (seq, by, of) => ctx.stored(seq, by, of),
      note: (to, c) => ctx.note(to, c),
      now: () => ctx.now(),
      repairAfter: (p) => Math.min(ctx.cfg.heartbeatMs, ctx.answerWait(p)),
      multicast: (targets, msg) => ctx.multicast(targets, encodeApp(msg), msg.seq),
      observeTerm: (term) => this.observe.term(term),
      observeLeader: (from, term) => this.observe.leader(from, term),
      historyUpTo: (upTo) => this.ring.entries((e) => (e.order ?? 0) <= upTo),
      installView: (v) => {
        this.flushOut();
        const old = this.view;
        this.view = v;
        ctx.installed(v);
        // Nothing is held for a life that left the view: it comes back as a new member.
        old.members.forEach((k, i) => {
          const inc = old.incs[i] as number;
          if (k !== ctx.self && !hasMember(v, k, inc)) ctx.abandon(k, inc);
        });
      },
      deliverHistory: (entries) => {
        for (const e of entries) {
          this.ring.push(e);
          ctx.deliver({ from: e.from, inc: e.inc, seq: e.seq, text: e.text, order: e.order }, true);
        }
      },
      rejoin: (reason) => ctx.rejoin(reason),
      unsafeCommit: ctx.unsafe.commitWithoutQuorum === true,
      historyMessages: ctx.historyMessages,
      targetView: (last) => this.target(last),
    });
  }

  /** Election hooks, set by the node (the log reports terms and leader contact). */
  observe: { term(t: number): void; leader(from: NodeId, t: number): void } = {
    term: () => {},
    leader: () => {},
  };

  send(text: string): SendResult {
    if (this.log.pendingCount >= this.ctx.limits.maxBacklog) {
      return {
        ok: false,
        error: `send backlog full: ${this.log.pendingCount} messages wait for the total order`,
      };
    }
    const seq = ++this.ownSeq;
    this.ctx.emit({ type: "sent", seq, text });
    this.log.own(seq, text);
    return { ok: true, seq };
  }

  onApp(from: NodeId, fromInc: number, m: AppMsg): void {
    switch (m.kind) {
      case "submit":
        this.log.onSubmit(from, fromInc, m);
        break;
      case "append":
        this.log.onAppend(from, m, this.out);
        break;
      case "append-resp":
        this.log.onAppendResp(from, m);
        break;
      case "history":
        this.log.onHistory(from, m);
        break;
      default:
        this.ctx.protocolError();
    }
    this.flushOut();
  }

  onLogCtrl(from: NodeId, c: LogCtrl): void {
    if (c.t === "match") this.log.onMatchNote(from, c.term, c.index);
    else this.log.onCommitNote(from, c.term, c.commit, c.compact);
  }

  onPeerLife(p: NodeId): void {
    this.log.peerRestarted(p);
  }

  advance(): void {
    this.lead();
    this.flushOut();
  }

  nextWake(): number | undefined {
    return this.log.nextWake();
  }

  /** Leader: the newest view in the log follows the live members. */
  private lead(): void {
    this.log.sync(this.out);
    if (!this.ctx.isLeader()) return;
    const t = this.target(this.log.lastView);
    if (!t) return;
    this.log.proposeView(t.members, t.incs);
    this.log.sync(this.out);
  }

  private target(last: View): View | undefined {
    const self = this.ctx.self;
    return nextView(
      last,
      self,
      this.ctx.term(),
      (p) => p === self || this.ctx.live(p),
      (p) => (p === self ? this.ctx.inc() : this.ctx.knownInc(p)),
      this.ctx.hostCount,
    );
  }

  private flushOut(): void {
    for (const d of this.out) {
      this.ring.push({ from: d.from, inc: d.inc ?? 0, seq: d.seq, text: d.text, order: d.order });
      this.ctx.deliver(d, false);
    }
    this.out.length = 0;
  }

  reset(): boolean {
    const old = this.log;
    const delivered = this.ring.entries();
    this.view = NO_VIEW;
    this.ring.clear();
    this.out.length = 0;
    this.ownSeq = 0;
    this.log = this.newLog();
    return !this.log.adopt(old, delivered);
  }

  position(): Position {
    return { lastIndex: this.log.lastIndex, lastTerm: this.log.lastTerm };
  }

  heldBack(): HeldMessage[] {
    const l = this.ctx.leader();
    const why = l === undefined ? "a leader to order it" : `its order number from leader ${l}`;
    return this.log
      .waiting()
      .map((m) => ({ from: this.ctx.self, seq: m.seq, text: m.text, waitingFor: why }));
  }

  get heldCount(): number {
    return this.log.pendingCount + this.log.uncommitted;
  }

  /** Bodies of other members' messages kept until their position comes. */
  get retained(): number {
    return this.log.bodiesKept;
  }

  get logSize(): number {
    return this.log.size;
  }

  get pendingCount(): number {
    return this.log.pendingCount;
  }

  waitingReason(): string | undefined {
    return this.log.pendingCount > 0 && this.ctx.leader() === undefined
      ? "waiting for leader"
      : undefined;
  }

  historyEntries(upTo = Number.POSITIVE_INFINITY): HistoryEntry[] {
    return this.ring.entries((e) => (e.order ?? 0) <= upTo);
  }
}
