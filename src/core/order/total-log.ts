import { type HistoryMsg, parseViewText, viewText } from "../app-message.js";
import type { LogCtrl } from "../ctrl.js";
import type { MembershipConfig } from "../membership/config.js";
import { hasMember, NO_VIEW, sameMembers, type View } from "../membership/view.js";
import { chunkHistory, type HistoryEntry, HistoryRing } from "../state/history.js";
import type { MsgSeq, NodeId } from "../types.js";
import type { Delivery } from "./layer.js";
import { Queue } from "./layer.js";
import { LifeMap } from "./life-map.js";
import type {
  AppendMsg,
  AppendRespMsg,
  LogEntry,
  LogMsg,
  SentEntry,
  SubmitMsg,
} from "./log-messages.js";

/** Entries per append message (keeps a message well under the fragment budget times a few). */
const MAX_BATCH = 256;
/**
 * Appends (batches) in flight per follower, unacknowledged: the leader sends the next batch
 * without waiting for the previous one's answer, and what arrives meanwhile waits for a slot,
 * so batches grow with the load (one append per few entries idle, 256 per append busy).
 */
export const MAX_IN_FLIGHT = 2;

export interface LogContext {
  self: NodeId;
  hostCount: number;
  incarnation: number;
  cfg: MembershipConfig;
  /** Current term and whether we lead it. */
  term(): number;
  isLeader(): boolean;
  leader(): NodeId | undefined;
  /** At most this many applied entries are kept for members that lag behind. */
  retainLimit: number;
  /** The recent messages applied at or before log position `upTo` (state transfer). */
  historyUpTo(upTo: number): HistoryEntry[];
  /** A view entry was applied: install it. */
  installView(v: View): void;
  /** State transfer: deliver these messages as history, before the view. */
  deliverHistory(entries: HistoryEntry[]): void;
  /** We fell behind the compacted log after having delivered: start over as a new life. */
  rejoin(reason: string): void;
  /** Negative control: commit without waiting for a quorum. */
  unsafeCommit: boolean;
  /** Leader: the member list the newest view should have (undefined: as it is). */
  targetView(last: View): { members: NodeId[]; incs: number[] } | undefined;
  /** State transfer: at most this many messages ordered before we joined are handed on. */
  historyMessages: number;
  /** Text bytes per append message (a single larger entry still goes alone). */
  batchBytes: number;
  /** Reliable send of a log message (or a snapshot's history) to one peer. */
  send(to: NodeId, msg: LogMsg | HistoryMsg): void;
  /**
   * Leader: follower `by` now holds our own message `seq` in its log (its match covers it), one
   * of `of` followers. The leader multicasts no body of its own (its appends carry the texts),
   * so this is the acknowledgement its sender sees.
   */
  stored?(seq: MsgSeq, by: NodeId, of: number): void;
  /**
   * Unreliable control message to one peer, due at the next drain; a newer one replaces it
   * meanwhile (coalesced `match` and `commit`).
   */
  note(to: NodeId, c: LogCtrl): void;
  /** Time of the event being handled. */
  now(): number;
  /**
   * Leader: after this long without an answer from follower `p` that owes one (or without
   * carrying the commit index reliably), an empty append asks again (a lost `match` or
   * `commit`): about two round trips to `p` (its RTO while backing off), at most a heartbeat.
   */
  repairAfter(p: NodeId): number;
  /** Reliable send of one own message to these peers (encoded once). */
  multicast(targets: readonly NodeId[], msg: SubmitMsg): void;
  /** A higher term was seen: step down. */
  observeTerm(term: number): void;
  /** An append from the leader of `term`: leader contact. */
  observeLeader(from: NodeId, term: number): void;
}

interface Follower {
  next: number;
  match: number;
  /** After a rejection: send one append and wait for its answer before pipelining again. */
  needProbe: boolean;
  /** prevIndex of the probe in flight, if any. */
  probe: number | undefined;
  /** Commit index last sent, in an append or a `commit` note (to know when one is due). */
  sentCommit: number;
  /** Commit index last sent in an append (reliable): a lost `commit` note is repaired by one. */
  appendCommit: number;
  /** Last index of each pipelined append not yet covered by `match` (at most MAX_IN_FLIGHT). */
  inFlight: number[];
  /** When we last sent an append, or the follower's match last advanced. */
  lastActive: number;
  /** The probe in flight is a snapshot (answered only by a success). */
  snapshot?: boolean;
  /**
   * Entries up to this index go with their texts: they were ordered before we knew the
   * follower had the senders' multicasts (we just became leader, the follower is a new life,
   * or it told us it lacks a body). Later ones go as positions only.
   */
  textUpTo: number;
}

/**
 * Total order as a replicated log (Raft log replication): the elected leader is the
 * sequencer. Senders submit to the leader and keep their message until they see it
 * delivered (and resubmit to a new leader); the leader appends and replicates entries
 * with their bodies; an entry is delivered everywhere once a quorum stores it. A new
 * leader holds every committed entry (vote restriction), so failover keeps every
 * delivered message at its position, and messages never ordered are ordered anew.
 */
export class TotalLog {
  private entries: LogEntry[] = [];
  /** Index of the last compacted entry (entries[0] has index base + 1). */
  private base = 0;
  private baseTerm = 0;
  commit = 0;
  private applied = 0;
  private readonly followers = new Map<NodeId, Follower>();
  /** The view in effect at `base`, and the view entries after it. */
  private baseView: View = NO_VIEW;
  /** The log position of baseView's entry (0: none). */
  private baseViewIndex = 0;
  private views: Array<{ index: number; view: View }> = [];
  /**
   * History chunks that precede a snapshot (leader's term, snapshot position), per sender: two
   * leaders' streams may arrive interleaved (an old leader's chunks still being repaired while
   * the new leader's come), and each sender's channel keeps its own in order.
   */
  private readonly snapHistory = new Map<
    NodeId,
    { term: number; at: number; entries: HistoryEntry[] }
  >();
  /** We asked to start over as a new member: this log takes no further part. */
  private halted = false;
  /**
   * Whether our next life keeps what this log stores (adopt): false once it conflicts with
   * what the leader holds at a position we delivered (then it is worth nothing).
   */
  private keepable = true;
  /** Whether a view with us in it was applied (from then on, deliveries are live). */
  private joined = false;
  /** Messages ordered before we joined: handed on as history when we join (bounded). */
  private readonly preJoin: HistoryRing;
  /** Highest seq applied (committed) per sender life. */
  private committedOrdered = new LifeMap<MsgSeq>();
  /** Highest seq in the log per sender life. */
  private ordered = new LifeMap<MsgSeq>();
  /** Leader: submissions of lives not in the newest view. */
  private readonly unadmitted = new LifeMap<Map<MsgSeq, string>>();
  /** Leader: submissions that arrived ahead of a gap. */
  private readonly early = new LifeMap<Map<MsgSeq, string>>();
  /** Own messages not yet delivered, in seq order (resubmitted to each new leader). */
  private readonly pending = new Queue<{ seq: MsgSeq; text: string }>();
  /**
   * Bodies of other members' messages, from their multicast, until the leader's append names
   * their position (life → seq → text). Only for lives of the newest view.
   */
  private bodies = new LifeMap<Map<MsgSeq, string>>();
  private bodyCount = 0;
  /** "leader@term" our pending messages were last submitted to. */
  private submittedTo = "";
  private leaderTerm = -1;
  /**
   * Follower: the highest index known to match the leader of `verifiedTerm` (its appends'
   * answers). A `commit` note commits only up to it (Raft: what the leader checked).
   */
  private verified = 0;
  private verifiedTerm = -1;
  /** A `commit` note's compaction point, carried out once what it commits is applied (sync). */
  private pendingCompact = 0;
  /** Leader: the earliest instant a follower's repair append falls due (nextWake). */
  private repairAt: number | undefined;

  constructor(private readonly ctx: LogContext) {
    this.preJoin = new HistoryRing(ctx.historyMessages);
  }

  /**
   * Our new life starts from what the old life's log (`old`) stores: entries, commit index and
   * what was applied stay, so a quorum that counted us keeps holding what it stored when we
   * start over (left out of a view, told to rejoin). Forgetting it lost delivered positions
   * (fuzz seed 20262004): we had stored a position with the leader, the quorum that delivered
   * it, then started over and dropped it, and the leader crashed. Until a view admits the new
   * life, what it applies is history (`delivered`: the old life's recent deliveries first).
   * Returns false, keeping nothing, when the old log conflicts with the leader's delivered past.
   */
  adopt(old: TotalLog, delivered: HistoryEntry[]): boolean {
    if (!old.keepable) return false;
    this.entries = old.entries;
    this.base = old.base;
    this.baseTerm = old.baseTerm;
    this.commit = old.commit;
    this.applied = old.applied;
    this.baseView = old.baseView;
    this.baseViewIndex = old.baseViewIndex;
    this.views = old.views;
    this.committedOrdered = old.committedOrdered;
    this.ordered = old.ordered;
    this.bodies = old.bodies;
    this.bodyCount = old.bodyCount;
    this.verified = old.verified;
    this.verifiedTerm = old.verifiedTerm;
    this.pendingCompact = old.pendingCompact;
    for (const e of old.joined ? delivered : old.preJoin.entries())
      if ((e.order ?? 0) <= this.applied) this.preJoin.push(e);
    return true;
  }

  /** The newest view in the log (applied or not): the replication targets. */
  get lastView(): View {
    return this.views.length > 0
      ? (this.views[this.views.length - 1] as { view: View }).view
      : this.baseView;
  }

  /** The view in effect at `i` and the log position of its entry (0: none). */
  private viewEntryAt(i: number): { index: number; view: View } {
    let e = { index: this.baseViewIndex, view: this.baseView };
    for (const x of this.views) if (x.index <= i) e = x;
    return e;
  }

  /** Leader: append a view with these members if the newest one differs. */
  proposeView(members: NodeId[], incs: number[]): void {
    if (!this.ctx.isLeader() || this.leaderTerm !== this.ctx.term()) return;
    const last = this.lastView;
    if (last.term === this.leaderTerm && sameMembers(last, { members, incs })) return;
    const view: View = {
      term: this.leaderTerm,
      version: last.term === this.leaderTerm ? last.version + 1 : 1,
      members,
      incs,
    };
    this.append({ term: this.leaderTerm, from: -2, inc: 0, seq: 0, text: viewText(view) });
    // Submits that waited for their sender's admission: order them now, or let them go if a
    // newer life of the sender is the member (the old one will never be).
    for (const [from, inc, q] of this.unadmitted.entries()) {
      const i = members.indexOf(from);
      if (i < 0) continue;
      this.unadmitted.delete(from, inc);
      if (incs[i] !== inc) continue;
      for (const seq of [...q.keys()].sort((a, b) => a - b))
        this.onSubmit(from, inc, { kind: "submit", seq, text: q.get(seq) as string });
    }
  }

  /** A peer started a new life: what we knew of its log is void. */
  peerRestarted(p: NodeId): void {
    const f = this.followers.get(p);
    if (!f) return;
    f.next = this.lastIndex + 1;
    f.match = 0;
    f.needProbe = false;
    f.probe = undefined;
    f.snapshot = false;
    f.sentCommit = -1;
    f.appendCommit = -1;
    f.inFlight.length = 0;
    f.textUpTo = this.lastIndex;
  }

  get lastIndex(): number {
    return this.base + this.entries.length;
  }

  get lastTerm(): number {
    return this.entries.length > 0
      ? (this.entries[this.entries.length - 1] as LogEntry).term
      : this.baseTerm;
  }

  private termAt(i: number): number | undefined {
    if (i === this.base) return this.baseTerm;
    if (i < this.base || i > this.lastIndex) return undefined;
    return (this.entries[i - this.base - 1] as LogEntry).term;
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  get size(): number {
    return this.entries.length;
  }

  /**
   * Own message: queue it and multicast it to the members of the newest view (and the leader):
   * the leader orders it, the others keep the body for when its position comes.
   */
  own(seq: MsgSeq, text: string): void {
    this.pending.push({ seq, text });
    const self = this.ctx.self;
    const l = this.ctx.leader();
    // The leader multicasts no body of its own: its appends carry its own messages' texts.
    // A body multicast first would sit ahead of every append in the leader's channels (one
    // FIFO channel per follower): under a burst the positions reached the followers only
    // once the leader's whole burst had, and nothing was delivered before.
    if (l !== self) {
      const targets = this.lastView.members.filter((p) => p !== self);
      if (l !== undefined && !targets.includes(l)) targets.push(l);
      if (targets.length > 0) this.ctx.multicast(targets, { kind: "submit", seq, text });
    }
    if (l === self && this.leaderKey() === this.submittedTo)
      this.onSubmit(self, this.ctx.incarnation, { kind: "submit", seq, text });
  }

  private submit(to: NodeId, seq: MsgSeq, text: string): void {
    if (to === this.ctx.self)
      this.onSubmit(this.ctx.self, this.ctx.incarnation, { kind: "submit", seq, text });
    else this.ctx.send(to, { kind: "submit", seq, text });
  }

  /** Called after any event: react to leader changes. */
  sync(out: Delivery[]): void {
    if (this.halted) return;
    const l = this.ctx.leader();
    if (l !== undefined && this.ctx.isLeader() && this.leaderTerm !== this.ctx.term())
      this.becomeLeader();
    // A new leader, or the same one in a new term (it may have dropped submits meanwhile).
    const key = this.leaderKey();
    if (key !== this.submittedTo) {
      this.submittedTo = key;
      if (l !== undefined) for (const p of this.pending) this.submit(l, p.seq, p.text);
    }
    if (this.ctx.isLeader()) {
      // Apply first: the compaction point the appends and notes carry follows what we applied.
      this.advanceCommit();
      this.apply(out);
      if (!this.halted) this.replicate();
    }
    this.apply(out);
    if (this.pendingCompact > 0) {
      this.compact(Math.min(this.pendingCompact, this.applied));
      this.pendingCompact = 0;
    }
  }

  private becomeLeader(): void {
    this.leaderTerm = this.ctx.term();
    this.followers.clear();
    for (let p = 0; p < this.ctx.hostCount; p++) {
      if (p !== this.ctx.self)
        this.followers.set(p, {
          next: this.lastIndex + 1,
          match: 0,
          needProbe: false,
          probe: undefined,
          sentCommit: -1,
          appendCommit: -1,
          inFlight: [],
          lastActive: this.ctx.now(),
          textUpTo: this.lastIndex + 2, // our no-op and view below, and what came before
        });
    }
    // A no-op of our own term commits whatever earlier terms left uncommitted; our view
    // follows, before any message we order.
    this.append({ term: this.leaderTerm, from: -1, inc: 0, seq: 0, text: "" });
    const t = this.ctx.targetView(this.lastView);
    if (t) this.proposeView(t.members, t.incs);
  }

  private append(e: LogEntry): void {
    this.entries.push(e);
    if (e.from >= 0) this.dropBody(e.from, e.inc, e.seq);
    if (e.from === -2) {
      const view = parseViewText(e.text, this.ctx.hostCount);
      if (view) this.views.push({ index: this.lastIndex, view });
    }
    if (e.from >= 0 && e.seq > (this.ordered.get(e.from, e.inc) ?? 0))
      this.ordered.set(e.from, e.inc, e.seq);
  }

  private leaderKey(): string {
    const l = this.ctx.leader();
    return l === undefined ? "" : `${l}@${this.ctx.term()}`;
  }

  /** Leader: a sender's message. Ordered in per-sender FIFO order, duplicates dropped. */
  onSubmit(from: NodeId, inc: number, m: SubmitMsg): void {
    if (!this.ctx.isLeader()) {
      this.keepBody(from, inc, m.seq, m.text);
      return; // the leader orders it (the sender resubmits to each new leader)
    }
    if (this.leaderTerm !== this.ctx.term()) this.becomeLeader();
    if (!hasMember(this.lastView, from, inc)) {
      // Not a member (yet, or any more): a message is ordered only in a view that holds its
      // sender. It waits for the view that admits this life (bounded by the sender's backlog).
      let q = this.unadmitted.get(from, inc);
      if (!q) {
        q = new Map<MsgSeq, string>();
        this.unadmitted.set(from, inc, q);
      }
      if (q.size < this.ctx.retainLimit) q.set(m.seq, m.text);
      return;
    }
    let next = (this.ordered.get(from, inc) ?? 0) + 1;
    if (m.seq < next) return;
    if (m.seq > next) {
      let q = this.early.get(from, inc);
      if (!q) {
        q = new Map<MsgSeq, string>();
        this.early.set(from, inc, q);
      }
      q.set(m.seq, m.text);
      return;
    }
    this.append({ term: this.leaderTerm, from, inc, seq: m.seq, text: m.text });
    const q = this.early.get(from, inc);
    if (!q) return;
    next++;
    for (let t = q.get(next); t !== undefined; t = q.get(next)) {
      q.delete(next);
      this.append({ term: this.leaderTerm, from, inc, seq: next, text: t });
      next++;
    }
    if (q.size === 0) this.early.delete(from, inc);
  }

  /**
   * Leader: pipelined replication. Each follower gets new entries in batches, up to
   * MAX_IN_FLIGHT of them unanswered; entries that arrive while the window is full wait and
   * leave together in the next batch. The commit index rides on every append; when no append
   * is due it goes as a `commit` note. A follower that owes an answer (or the commit index) for
   * `repairAfter` (about two round trips, at most a heartbeat) gets an empty append, which
   * makes it answer again; `repairAt` keeps the earliest such instant for nextWake.
   */
  private replicate(): void {
    this.advanceCommit();
    const v = this.lastView;
    const now = this.ctx.now();
    let wake: number | undefined;
    for (const [p, f] of this.followers) {
      if (!v.members.includes(p)) continue;
      if (f.next <= this.base) {
        if (f.probe === undefined || f.needProbe) this.sendSnapshot(p, f, this.base);
        continue;
      }
      if (f.probe === undefined) {
        if (f.needProbe) this.sendAppend(p, f);
        else
          while (f.next <= this.lastIndex && f.inFlight.length < MAX_IN_FLIGHT)
            this.sendAppend(p, f);
      }
      if (f.sentCommit !== this.commit) {
        f.sentCommit = this.commit;
        this.ctx.note(p, {
          t: "commit",
          term: this.leaderTerm,
          commit: this.commit,
          compact: this.compactPoint(),
        });
      }
      if (
        f.snapshot ||
        (f.inFlight.length === 0 && f.probe === undefined && f.appendCommit === this.commit)
      )
        continue;
      const after = this.ctx.repairAfter(p);
      if (now >= f.lastActive + after) this.sendRepair(p, f); // lastActive becomes now
      const due = f.lastActive + after;
      if (wake === undefined || due < wake) wake = due;
    }
    this.repairAt = wake;
  }

  /** Leader: when a repair append falls due (undefined: none owed, or we do not lead). */
  nextWake(): number | undefined {
    return this.ctx.isLeader() && !this.halted ? this.repairAt : undefined;
  }

  /** An append of this leader's term after `prevIndex`, carrying the commit index. */
  private appendMsg(prevIndex: number, compact: number, entries: SentEntry[]): AppendMsg {
    return {
      kind: "append",
      term: this.leaderTerm,
      prevIndex,
      prevTerm: this.termAt(prevIndex) ?? 0,
      commit: this.commit,
      compact,
      snap: null,
      entries,
    };
  }

  /** An empty append at the follower's next position: it answers with its match (or a rejection). */
  private sendRepair(p: NodeId, f: Follower): void {
    this.ctx.send(p, this.appendMsg(f.next - 1, this.compactPoint(), []));
    f.sentCommit = this.commit;
    f.appendCommit = this.commit;
    f.lastActive = this.ctx.now();
  }

  /** State transfer: the follower starts from log position `at` (it must be applied here). */
  private sendSnapshot(p: NodeId, f: Follower, at: number): void {
    if (this.applied < at) return; // wait until we applied up to it ourselves
    // Only what is committed: an appended entry may still be lost (truncated); telling the
    // new member it is ordered would make it drop the sender's resubmission as a duplicate.
    const ordered: number[] = [];
    for (const [from, inc, seq] of this.committedOrdered.entries()) ordered.push(from, inc, seq);
    f.next = at + 1;
    f.sentCommit = this.commit;
    f.appendCommit = this.commit;
    f.inFlight.length = 0;
    f.lastActive = this.ctx.now();
    f.needProbe = false;
    f.probe = at;
    f.snapshot = true;
    f.textUpTo = Math.max(f.textUpTo, this.lastIndex);
    // The history goes ahead in chunks (a message has a size limit); the snapshot follows.
    // Until a view with us is applied, what we applied is still our own pre-join history (it
    // reaches the mode's ring only when we join): hand that on.
    const history = this.joined
      ? this.ctx.historyUpTo(at)
      : this.preJoin.entries((e) => (e.order ?? 0) <= at);
    const chunks = chunkHistory(history, this.ctx.batchBytes);
    chunks.forEach((entries, i) => {
      this.ctx.send(p, {
        kind: "history",
        term: this.leaderTerm,
        version: at,
        done: i === chunks.length - 1,
        entries,
      });
    });
    const ve = this.viewEntryAt(at);
    this.ctx.send(p, {
      kind: "append",
      term: this.leaderTerm,
      prevIndex: at,
      prevTerm: this.termAt(at) ?? 0,
      commit: this.commit,
      compact: this.compactPoint(),
      snap: { view: ve.view, viewIndex: ve.index, history: [], ordered },
      entries: [],
    });
  }

  private sendAppend(p: NodeId, f: Follower): void {
    const compact = this.compactPoint();
    const prevIndex = f.next - 1;
    let end = prevIndex;
    let bytes = 0;
    const last = Math.min(this.lastIndex, prevIndex + MAX_BATCH);
    const entries: SentEntry[] = [];
    while (end < last) {
      const e = this.entries[end - this.base] as LogEntry;
      const withText = e.from < 0 || e.from === this.ctx.self || end + 1 <= f.textUpTo;
      bytes += (withText ? e.text.length * 3 : 0) + 24;
      if (end > prevIndex && bytes > this.ctx.batchBytes) break;
      entries.push(
        withText ? e : { term: e.term, from: e.from, inc: e.inc, seq: e.seq, text: null },
      );
      end++;
    }
    this.ctx.send(p, this.appendMsg(prevIndex, compact, entries));
    f.next = end + 1;
    f.sentCommit = this.commit;
    f.appendCommit = this.commit;
    f.lastActive = this.ctx.now();
    if (f.needProbe) {
      // One append, answered before anything more is sent (not part of the pipeline).
      f.needProbe = false;
      f.probe = prevIndex;
      f.inFlight.length = 0;
    } else f.inFlight.push(end);
  }

  /** Entries every member of the newest view stores can be dropped everywhere. */
  private compactPoint(): number {
    const top = Math.min(this.commit, this.applied);
    let m = top;
    const v = this.lastView;
    for (const [p, f] of this.followers) if (v.members.includes(p)) m = Math.min(m, f.match);
    return Math.max(m, top - this.ctx.retainLimit);
  }

  /**
   * The highest index a quorum stores (our own log counts as one), if it is of our term (Raft:
   * only entries of the leader's term commit by counting). The q-th largest match among us and
   * the followers: one pass over the followers, not one per uncommitted entry.
   */
  private advanceCommit(): void {
    const q = this.ctx.unsafeCommit ? 1 : this.ctx.cfg.quorum;
    const matches = this.matchScratch;
    matches.length = 0;
    matches.push(this.lastIndex);
    for (const f of this.followers.values()) matches.push(f.match);
    if (matches.length >= q) {
      matches.sort((a, b) => b - a);
      const n = matches[q - 1] as number;
      if (n > this.commit && this.termAt(n) === this.leaderTerm) this.commit = n;
    }
    if (this.ctx.isLeader()) this.compact(this.compactPoint());
  }
  private readonly matchScratch: number[] = [];

  /** A chunk of the history that goes with `from`'s next snapshot. */
  onHistory(from: NodeId, m: HistoryMsg): void {
    const h = this.snapHistory.get(from);
    if (!h || h.term !== m.term || h.at !== m.version)
      this.snapHistory.set(from, { term: m.term, at: m.version, entries: [...m.entries] });
    else for (const e of m.entries) h.entries.push(e);
  }

  onAppend(from: NodeId, m: AppendMsg, out: Delivery[]): void {
    if (this.halted) return;
    const reply = (ok: boolean, index: number, missing = 0): void => {
      if (ok) this.verify(m.term, index);
      // A plain success is a coalesced `match` note (one per drain, however many appends came);
      // rejections, missing bodies and snapshot answers go reliably.
      if (ok && missing === 0 && !m.snap)
        this.ctx.note(from, { t: "match", term: m.term, index: this.verified });
      else
        this.ctx.send(from, {
          kind: "append-resp",
          term: this.ctx.term(),
          ok,
          index,
          reqPrev: m.prevIndex,
          missing,
        });
    };
    // The history chunks that went ahead of a snapshot serve that snapshot or none.
    const snapHistory = m.snap ? this.snapHistory.get(from) : undefined;
    if (m.snap) this.snapHistory.delete(from);
    if (m.term < this.ctx.term()) {
      reply(false, this.commit);
      return;
    }
    this.ctx.observeLeader(from, m.term);
    if (m.snap) {
      if (m.prevIndex <= this.lastIndex && this.termAt(m.prevIndex) === m.prevTerm) {
        reply(true, m.prevIndex); // we hold that prefix already
        return;
      }
      if (this.joined) {
        // We delivered in a view and cannot catch up by the log: we are a new member now.
        this.halt("fell behind the leader's compacted log");
        return;
      }
      if (
        m.snap.viewIndex < m.prevIndex &&
        hasMember(m.snap.view, this.ctx.self, this.ctx.incarnation)
      ) {
        // We are a member of the snapshot's view, but messages were ordered in it before the
        // snapshot: we would get them as history, not in the view as its other members did
        // (we were paused or cut off when it formed). A new member gets a view of its own.
        this.halt("joined after the first messages of its own view");
        return;
      }
      // State transfer: join from the leader's position, with the recent past as history.
      this.entries = [];
      this.views = [];
      this.base = m.prevIndex;
      this.baseTerm = m.prevTerm;
      this.commit = this.base;
      this.applied = this.base;
      this.baseView = m.snap.view;
      this.baseViewIndex = m.snap.viewIndex;
      const o = m.snap.ordered;
      for (let i = 0; i + 2 < o.length; i += 3) {
        const from = o[i] as NodeId;
        const inc = o[i + 1] as number;
        const seq = o[i + 2] as number;
        if (seq > (this.ordered.get(from, inc) ?? 0)) this.ordered.set(from, inc, seq);
        if (seq > (this.committedOrdered.get(from, inc) ?? 0))
          this.committedOrdered.set(from, inc, seq);
      }
      this.dropOrderedBodies();
      this.preJoin.clear();
      const h = snapHistory;
      const history = h && h.term === m.term && h.at === m.prevIndex ? h.entries : m.snap.history;
      // Partial streams of other (older) leaders are of no use any more.
      this.snapHistory.clear();
      for (const e of history) {
        this.ownDone(e.from, e.inc, e.seq);
        this.preJoin.push(e);
      }
      this.applyView(m.snap.view);
      // What an earlier append of this term verified is gone with the old log.
      this.verifiedTerm = m.term;
      this.verified = this.base;
      reply(true, this.base);
      return;
    }
    let prev = m.prevIndex;
    let entries = m.entries;
    if (prev < this.base) {
      // Entries we compacted were delivered here. They are the leader's too, unless the
      // quorum that stored them lost its memory (README, Limits): then the leader's entries
      // up to our base carry a later term than ours (every term in our prefix is at most
      // baseTerm; one with the same index and term is the same entry, and so is the prefix
      // before it). Skipping them would take a history that is not ours: start over instead.
      const skip = this.base - prev;
      const upTo = Math.min(skip, entries.length);
      for (let j = 0; j < upTo; j++) {
        const t = (entries[j] as SentEntry).term;
        if (t > this.baseTerm || (j === skip - 1 && t !== this.baseTerm)) {
          this.halt("the leader's log does not hold what we delivered", false);
          return;
        }
      }
      if (skip > entries.length) {
        reply(true, this.base);
        return;
      }
      entries = entries.slice(skip);
      prev = this.base;
    } else {
      if (prev > this.lastIndex || this.termAt(prev) !== m.prevTerm) {
        if (prev <= this.applied) {
          // A delivered entry differs from the leader's: same case as below (the leader's log
          // lost what we delivered). Rejecting would make the leader probe here for ever.
          this.halt("the leader's log does not hold what we delivered", false);
          return;
        }
        // Our log is only shorter: the leader probes from its end (a snapshot from below our
        // commit index would be needless, and for a member of the view a new life). Else
        // from what we committed.
        reply(false, prev > this.lastIndex ? this.lastIndex : this.commit);
        return;
      }
    }
    let i = prev;
    let missing = 0;
    for (const e of entries) {
      i++;
      const t = this.termAt(i);
      if (t === e.term) continue;
      if (t !== undefined && i <= this.applied) {
        // The leader's log lost entries we delivered (only possible when the processes
        // that stored them lost their memory or are cut off): we cannot take part in
        // this history; start over as a new member.
        this.halt("the leader's log does not hold what we delivered", false);
        return;
      }
      const text = e.text ?? this.bodyOf(e.from as NodeId, e.inc, e.seq);
      if (text === undefined) {
        // Its body has not reached us (or never will: its sender crashed mid-multicast).
        // Keep the prefix; the leader sends the texts from here on.
        missing = i;
        break;
      }
      if (t !== undefined) this.truncateFrom(i);
      this.append(e.text === null ? { ...e, text } : (e as LogEntry));
    }
    const lastNew = missing > 0 ? missing - 1 : prev + entries.length;
    // The commit index counts as a `commit` note's does: up to what this leader verified here,
    // this append's entries included. A prefix the leader sent again (after a stale rejection)
    // may carry a commit index past its own entries, and the leader owes us nothing more once
    // that append is out; capped at the append's entries, our last entry stayed uncommitted
    // for good (fuzz seed 20263002, total).
    this.verify(m.term, lastNew);
    this.commitUpTo(m.commit);
    this.apply(out);
    this.compact(Math.min(m.compact, this.applied));
    reply(true, lastNew, missing);
  }

  /**
   * Our log matches the leader of `term` up to `index`. Within a term this only grows: the
   * leader's log is append-only in its term, and we truncate only entries that conflict with it.
   */
  private verify(term: number, index: number): void {
    if (term !== this.verifiedTerm) {
      this.verifiedTerm = term;
      this.verified = index;
    } else if (index > this.verified) this.verified = index;
  }

  /** Follower: the leader's commit index, taken only up to what its appends verified here. */
  private commitUpTo(commit: number): void {
    const c = Math.min(commit, this.verified, this.lastIndex);
    if (c > this.commit) this.commit = c;
  }

  /** Follower: the leader's `commit` note. Commits only what its appends verified here. */
  onCommitNote(from: NodeId, term: number, commit: number, compact: number): void {
    if (this.halted || term !== this.ctx.term() || this.ctx.leader() !== from) return;
    if (term !== this.verifiedTerm) return;
    this.commitUpTo(commit);
    this.pendingCompact = Math.max(this.pendingCompact, compact);
  }

  /** Leader: a follower's `match` note (a coalesced successful answer to our appends). */
  onMatchNote(from: NodeId, term: number, index: number): void {
    if (term > this.ctx.term()) {
      this.ctx.observeTerm(term);
      return;
    }
    // Beyond our log: not an answer to this leader's appends (cannot happen; never trusted).
    if (!this.ctx.isLeader() || term !== this.leaderTerm || index > this.lastIndex) return;
    const f = this.followers.get(from);
    if (!f) return;
    this.matched(from, f, index);
    // A match at or past the probe's position answers it (the log agrees there).
    if (f.probe !== undefined && !f.snapshot && index >= f.probe) f.probe = undefined;
    this.advanceCommit();
  }

  /** The follower's log matches ours up to `index`. */
  private matched(p: NodeId, f: Follower, index: number): void {
    if (index > f.match) {
      this.ownStored(p, f.match, index);
      f.match = index;
      f.lastActive = this.ctx.now();
    }
    if (f.next < f.match + 1) f.next = f.match + 1;
    const q = f.inFlight;
    let k = 0;
    while (k < q.length && (q[k] as number) <= f.match) k++;
    if (k > 0) q.splice(0, k);
  }

  /**
   * Follower `p`'s match moved from `from` to `to`: our own messages ordered in this term in
   * between are stored there (ones of an earlier term were counted then, or go uncounted).
   */
  private ownStored(p: NodeId, from: number, to: number): void {
    const stored = this.ctx.stored;
    if (!stored) return;
    const self = this.ctx.self;
    const inc = this.ctx.incarnation;
    // Counted among the members of our newest view (a configured host that is down is none).
    const members = this.lastView.members;
    if (!members.includes(p)) return;
    const of = members.length - (members.includes(self) ? 1 : 0);
    for (let i = Math.max(from, this.base) + 1; i <= to; i++) {
      const e = this.entries[i - 1 - this.base];
      if (e && e.from === self && e.inc === inc && e.term === this.leaderTerm) stored(e.seq, p, of);
    }
  }

  /** The body of a message named by an append: from the sender's multicast, or our own. */
  private bodyOf(from: NodeId, inc: number, seq: MsgSeq): string | undefined {
    if (from === this.ctx.self && inc === this.ctx.incarnation) {
      // Pending seqs are consecutive (sent in order, removed from the front).
      const first = this.pending.peek();
      const p = first ? this.pending.at(seq - first.seq) : undefined;
      return p?.seq === seq ? p.text : undefined;
    }
    return this.bodies.get(from, inc)?.get(seq);
  }

  /** A member's multicast reached us (we do not lead): keep it until its position comes. */
  private keepBody(from: NodeId, inc: number, seq: MsgSeq, text: string): void {
    if (seq <= (this.committedOrdered.get(from, inc) ?? 0) || !hasMember(this.lastView, from, inc))
      return;
    let q = this.bodies.get(from, inc);
    if (!q) {
      q = new Map();
      this.bodies.set(from, inc, q);
    }
    if (q.has(seq)) return;
    q.set(seq, text);
    this.bodyCount++;
  }

  private dropBody(from: NodeId, inc: number, seq: MsgSeq): void {
    const q = this.bodies.get(from, inc);
    if (!q?.delete(seq)) return;
    this.bodyCount--;
    if (q.size === 0) this.bodies.delete(from, inc);
  }

  /** After a snapshot: bodies of messages ordered before it will never be named by an append. */
  private dropOrderedBodies(): void {
    for (const [from, inc, q] of this.bodies.entries()) {
      const done = this.committedOrdered.get(from, inc) ?? 0;
      for (const seq of q.keys()) if (seq <= done) this.dropBody(from, inc, seq);
    }
  }

  /** Bodies kept for positions still to come (boundedness). */
  get bodiesKept(): number {
    return this.bodyCount;
  }

  private truncateFrom(i: number): void {
    this.views = this.views.filter((x) => x.index < i);
    const removed = this.entries.splice(i - this.base - 1);
    for (const e of removed) {
      if (e.from < 0) continue;
      const cur = this.ordered.get(e.from, e.inc) ?? 0;
      if (e.seq - 1 < cur) this.ordered.set(e.from, e.inc, e.seq - 1);
    }
  }

  onAppendResp(from: NodeId, m: AppendRespMsg): void {
    if (m.term > this.ctx.term()) {
      this.ctx.observeTerm(m.term);
      return;
    }
    if (!this.ctx.isLeader() || m.term !== this.leaderTerm) return;
    const f = this.followers.get(from);
    if (!f) return;
    if (m.ok) {
      this.matched(from, f, m.index);
      if (f.probe === m.reqPrev) {
        f.probe = undefined;
        f.snapshot = false;
      }
      if (m.missing > 0) {
        // It lacks a body: resend from there with the texts (one probe at a time).
        f.textUpTo = Math.max(f.textUpTo, this.lastIndex);
        if (f.probe === undefined) {
          f.needProbe = true;
          f.next = f.match + 1;
          f.inFlight.length = 0;
        }
      }
      this.advanceCommit();
      return;
    }
    // A rejection: only the one answering the probe in flight counts, or the first one. A
    // snapshot is never rejected: a rejection while one is in flight answers an earlier append.
    if (f.snapshot) return;
    if (f.probe !== undefined ? m.reqPrev !== f.probe : f.needProbe) return;
    // Stale: the follower's log matches ours at f.match, so it matches at every index before.
    if (m.reqPrev < f.match) return;
    f.probe = undefined;
    f.needProbe = true;
    f.inFlight.length = 0;
    f.next = Math.max(f.match + 1, Math.min(f.next, m.index + 1));
  }

  private apply(out: Delivery[]): void {
    while (this.applied < this.commit && !this.halted) {
      this.applied++;
      const e = this.entries[this.applied - this.base - 1] as LogEntry;
      if (e.from === -2) {
        const view = parseViewText(e.text, this.ctx.hostCount);
        if (view) this.applyView(view);
        continue;
      }
      if (e.from < 0) continue;
      this.ownDone(e.from, e.inc, e.seq);
      this.dropBody(e.from, e.inc, e.seq);
      if (e.seq > (this.committedOrdered.get(e.from, e.inc) ?? 0))
        this.committedOrdered.set(e.from, e.inc, e.seq);
      if (this.joined)
        out.push({ from: e.from, inc: e.inc, seq: e.seq, text: e.text, order: this.applied });
      else
        this.preJoin.push({
          from: e.from,
          inc: e.inc,
          seq: e.seq,
          text: e.text,
          order: this.applied,
        });
    }
  }

  /**
   * A view reached us in log order. Before we are in one, messages are history; the first
   * view with us hands that history on, then installs. A view without us after we joined
   * means we were excluded: we start over as a new member.
   */
  private applyView(view: View): void {
    // A life out of this view and of the newest one is never ordered again.
    for (const [from, inc, q] of this.bodies.entries()) {
      if (hasMember(view, from, inc) || hasMember(this.lastView, from, inc)) continue;
      this.bodyCount -= q.size;
      this.bodies.delete(from, inc);
    }
    if (!hasMember(view, this.ctx.self, this.ctx.incarnation)) {
      if (this.joined) this.halt("the group ordered a view without us");
      return;
    }
    if (!this.joined) {
      this.joined = true;
      this.ctx.deliverHistory(this.preJoin.entries());
      this.preJoin.clear();
    }
    this.ctx.installView(view);
  }

  private halt(reason: string, keepable = true): void {
    this.halted = true;
    this.keepable = keepable;
    this.ctx.rejoin(reason);
  }

  /** Own message `seq` is ordered and delivered: it no longer waits. */
  private ownDone(from: NodeId, inc: number, seq: MsgSeq): void {
    if (from !== this.ctx.self || inc !== this.ctx.incarnation) return;
    while ((this.pending.peek()?.seq ?? Number.POSITIVE_INFINITY) <= seq) this.pending.shift();
  }

  private compact(upTo: number): void {
    const n = Math.min(upTo, this.applied) - this.base;
    if (n < 256 && n < this.entries.length) return; // compact in chunks
    if (n <= 0) return;
    this.baseTerm = (this.entries[n - 1] as LogEntry).term;
    this.entries = this.entries.slice(n);
    this.base += n;
    const ve = this.viewEntryAt(this.base);
    this.baseView = ve.view;
    this.baseViewIndex = ve.index;
    this.views = this.views.filter((x) => x.index > this.base);
  }

  /** Why own messages wait (for the TUI and notices). */
  waiting(): Array<{ seq: MsgSeq; text: string }> {
    return [...this.pending];
  }

  /** Entries known but not yet delivered (ordered, waiting for commit). */
  get uncommitted(): number {
    return this.lastIndex - this.commit;
  }
}
