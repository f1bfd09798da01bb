import type { NodeId } from "../types.js";
import type { MembershipConfig } from "./config.js";

export type Term = number;
export type Role = "follower" | "precandidate" | "candidate" | "leader";

/** Unreliable control messages of the election. */
export type ElectionCtrl =
  | { t: "prevote-req"; term: Term; lastIndex: number; lastTerm: Term }
  /** `forgot`: the voter lost its log (a restart) and holds none again yet (see `countsVotes`). */
  | { t: "prevote-resp"; term: Term; granted: boolean; forgot?: true }
  | { t: "vote-req"; term: Term; lastIndex: number; lastTerm: Term; transfer?: true }
  | { t: "vote-resp"; term: Term; granted: boolean; forgot?: true }
  | {
      t: "leader-hb";
      term: Term;
      round: number;
      /**
       * The leader's word on every host: ms since it last heard it (itself 0), -1 where it
       * does not count it live. Followers take it as contact (FailureDetector.vouch), so they
       * need not heartbeat each other (the node adds it; the election ignores it).
       */
      ages?: number[];
    }
  | { t: "leader-ack"; term: Term; round: number; view?: [number, number] }
  /** Leadership transfer (Raft's TimeoutNow): the leader, having given up, asks `to` to stand now. */
  | { t: "timeout-now"; term: Term };

/** What must survive a restart so that a process never votes twice in one term. */
export interface HardState {
  term: Term;
  votedFor: NodeId | -1;
}

export interface LogPosition {
  lastIndex: number;
  lastTerm: Term;
}

export type ElectionOut = Array<{ to: NodeId | "all"; msg: ElectionCtrl }>;

/**
 * Leader election after Raft (terms, one vote per term, majority quorum, up-to-date log
 * check) with pre-vote, leader stickiness and check-quorum, and a leader lease. The leader
 * holds a lease until `leaseMs` after the send time of the latest heartbeat round (or
 * vote request) that a quorum answered; leader-only services (the agent's command) run only
 * while it holds. A lapsed lease alone does not end leadership: a leader that was itself
 * slow (a stall, a backlog) renews it with its next answered round. It steps down when it
 * sees a higher term, or when no quorum has answered for `electionTimeoutMs` of its own
 * judged time (check-quorum: cut off from the majority).
 */
export class Election {
  term: Term;
  votedFor: NodeId | -1;
  role: Role = "follower";
  leader: NodeId | undefined;
  leaseUntil = 0;
  /** Leader: step down once `judged` reaches this (no quorum answered for an election timeout). */
  private quorumDeadline = Number.POSITIVE_INFINITY;
  /** Set when term or vote changed: the shell must persist it before sending. */
  dirty = false;
  /** Negative control: grant every vote request, a second one in the same term included. */
  unsafeVoteTwice = false;
  private lastLeaderContact = Number.NEGATIVE_INFINITY;
  private deadline: number;
  private grants = new Set<NodeId>();
  private round = 0;
  private readonly roundSentAt = new Map<number, number>();
  /** Leader: per follower, the send time of the latest heartbeat round (or vote request) it answered. */
  private lastAck: number[];
  /** The others' entries of `lastAck`, for `renewLease`. */
  private readonly ackScratch: Float64Array;
  private voteReqSentAt = 0;
  /** Pre-candidate / candidate: when to repeat the request to those that have not answered. */
  private retryAt = Number.POSITIVE_INFINITY;
  /** Candidate: this election was asked for by the leader (timeout-now), not by a timeout. */
  private transferring = false;

  constructor(
    private readonly self: NodeId,
    private readonly hostCount: number,
    private readonly cfg: MembershipConfig,
    private readonly rng: () => number,
    hard: HardState,
    now: number,
    private readonly log: () => LogPosition,
    /** Whether the failure detector holds `p` for alive (see `countsVotes`); default: all. */
    private readonly reachable: (p: NodeId) => boolean = () => true,
  ) {
    this.term = hard.term;
    this.votedFor = hard.votedFor;
    this.lastAck = new Array<number>(hostCount).fill(Number.NEGATIVE_INFINITY);
    this.forgot = new Array<boolean>(hostCount).fill(false);
    this.ackScratch = new Float64Array(Math.max(0, hostCount - 1));
    this.deadline = now + this.randomTimeout();
    // A life with a term on disk is a restart: its last life's promise is kept (promisedUntil).
    if (hard.term > 0) this.promisedUntil = now + cfg.electionTimeoutMs;
  }

  /**
   * We grant no vote or pre-vote for a new election until this instant. Each
   * answer a leader's lease counts on (a vote we granted, an ack of a heartbeat round) is a
   * promise not to help elect anyone else within an election timeout (the lease, `leaseMs`,
   * is shorter). Leader stickiness kept it only while we knew the leader: a voter that had
   * voted for a candidate (no leader known yet), or heard a higher term and forgot its
   * leader, voted again at once, and two nodes led with a valid lease (fuzz seed 20263014,
   * causal: 5 nodes; node 4 elected in term 1 by votes granted 230 ms earlier that also went
   * to node 1 in term 2). The promise is not on disk: a restarted life (a term on disk) keeps
   * its last life's for a whole election timeout from its start. (Our own election timer,
   * restarted by the same answers, runs at least an election timeout.)
   */
  private promisedUntil = Number.NEGATIVE_INFINITY;

  private promise(now: number): void {
    const until = now + this.cfg.electionTimeoutMs;
    if (until > this.promisedUntil) this.promisedUntil = until;
  }

  private randomTimeout(): number {
    return this.cfg.electionTimeoutMs * (1 + this.rng());
  }

  get isLeader(): boolean {
    return this.role === "leader";
  }

  hard(): HardState {
    return { term: this.term, votedFor: this.votedFor };
  }

  private setTerm(term: Term): void {
    if (term > this.term) {
      this.term = term;
      this.votedFor = -1;
      this.dirty = true;
    }
  }

  private becomeFollower(term: Term, leader: NodeId | undefined, now: number): void {
    this.setTerm(term);
    this.role = "follower";
    this.leader = leader;
    this.leaseUntil = 0;
    this.quorumDeadline = Number.POSITIVE_INFINITY;
    this.grants.clear();
    this.retryAt = Number.POSITIVE_INFINITY;
    if (leader !== undefined) this.lastLeaderContact = now;
    this.deadline = now + this.randomTimeout();
  }

  /**
   * Total order: we lost (restart) or dropped (a rejoin because our log disagreed with the
   * leader's at a position we delivered; other rejoins keep the log) a log that may have held
   * committed entries. Until we hold a log again, and for at most `amnesiaGraceMs` (two
   * election timeouts), we vote only for candidates with an empty log: our vote must not
   * complete the quorum of a candidate that lacks entries we may have stored (Raft's
   * up-to-date check needs voters that remember). Without it, one restarted follower could
   * elect a leader without a position the others delivered, and the group would order those
   * messages again, differently. The grace ends so that a group that cannot elect without us
   * (two hosts, or a majority restarted) still gets a leader; the README states what is left
   * (Limits).
   */
  private forgotUntil = Number.NEGATIVE_INFINITY;
  /** We lost our log and hold none again yet (cleared once the log is non-empty). */
  private lostMemory = false;
  /** Per voter: its latest answer said it had lost its log (`forgot`). */
  private readonly forgot: boolean[];

  lostLog(now: number): void {
    this.forgotUntil = now + 2 * this.cfg.electionTimeoutMs;
    this.lostMemory = true;
  }

  /** We lost or dropped our log (see lostLog) and hold none again yet. */
  get amnesiac(): boolean {
    if (this.lostMemory && this.log().lastIndex > 0) this.lostMemory = false;
    return this.lostMemory;
  }

  /**
   * Whether our grants make a quorum we may take. A voter that lost its log cannot vouch
   * that we hold what it had stored, so its vote counts only when no quorum of voters that
   * remember can be had: either the grants of voters that remember make a quorum, or too
   * few voters remember for any quorum of them (those known to have forgotten, and those
   * the failure detector holds dead, are left out), and then the grants of all count. A
   * voter that remembers and refused us (say, its log is newer) keeps us from counting the
   * others that forgot: it may win with voters that remember.
   */
  private countsVotes(): boolean {
    const q = this.cfg.quorum;
    if (this.grants.size < q) return false;
    let remembering = 0;
    for (const g of this.grants)
      if (g === this.self ? !this.amnesiac : !this.forgot[g]) remembering++;
    if (remembering >= q) return true;
    let possible = 0;
    for (let p = 0; p < this.hostCount; p++) {
      if (p === this.self) {
        if (!this.amnesiac) possible++;
      } else if (!this.forgot[p] && (this.grants.has(p) || this.reachable(p))) possible++;
    }
    return possible < q;
  }

  /** Our answer to a vote request: `forgot` while we hold no log after losing ours. */
  private answer(t: "prevote-resp" | "vote-resp", term: Term, granted: boolean): ElectionCtrl {
    return this.amnesiac ? { t, term, granted, forgot: true } : { t, term, granted };
  }

  private upToDateVoter(lastIndex: number, lastTerm: Term, now: number): boolean {
    if (now < this.forgotUntil && lastIndex > 0 && this.log().lastIndex === 0) return false;
    return this.upToDate(lastIndex, lastTerm);
  }

  /**
   * We start over as a new member: whatever we led (followers' progress, a view numbering) is
   * gone, so we must not lead this term any longer. A later term may elect us again.
   */
  abdicate(now: number): void {
    if (this.role !== "follower") this.becomeFollower(this.term, undefined, now);
  }

  /**
   * A process frozen for `ms` gives the leader the benefit of the doubt, and a leader its
   * followers (check-quorum); never the lease.
   */
  stalled(ms: number): void {
    this.lastLeaderContact += ms;
    this.deadline += ms;
    this.quorumDeadline += ms;
  }

  private upToDate(lastIndex: number, lastTerm: Term): boolean {
    const mine = this.log();
    return lastTerm > mine.lastTerm || (lastTerm === mine.lastTerm && lastIndex >= mine.lastIndex);
  }

  /** `judged`: the instant up to which we have read what was sent to us (see RmNode.caughtUp). */
  private heardLeaderRecently(judged: number): boolean {
    return (
      this.leader !== undefined && judged - this.lastLeaderContact < this.cfg.electionTimeoutMs
    );
  }

  /** We lead and hold the lease at `now` (leader-only services may act). */
  leaseHeld(now: number): boolean {
    return this.role === "leader" && now < this.leaseUntil;
  }

  /**
   * Timers. The election timeout is judged at `judged` (default `now`): the instant up to which
   * this process had read everything sent to it. A follower that is behind on its own input has
   * not missed the leader's heartbeats, they wait in its socket: it does not stand for them.
   */
  tick(now: number, out: ElectionOut, judged = now): void {
    if (this.role === "leader") {
      if (this.cfg.quorum <= 1) this.leaseUntil = now + this.cfg.leaseMs;
      // Check-quorum: no quorum answered for an election timeout of judged time.
      else if (judged >= this.quorumDeadline) this.becomeFollower(this.term, undefined, now);
      return;
    }
    if (now >= this.retryAt && judged < this.deadline) this.retry(now, out);
    if (judged < this.deadline) return;
    const pos = this.log();
    this.deadline = now + this.randomTimeout();
    this.leader = undefined;
    this.grants = new Set([this.self]);
    this.role = "precandidate";
    if (this.countsVotes()) {
      this.startElection(now, out);
      return;
    }
    out.push({ to: "all", msg: { t: "prevote-req", term: this.term + 1, ...pos } });
    this.retryAt = now + this.cfg.heartbeatMs;
  }

  /** Requests and answers are unreliable: ask again those that have not answered. */
  private retry(now: number, out: ElectionOut): void {
    const pos = this.log();
    const msg: ElectionCtrl =
      this.role === "candidate"
        ? this.voteReq(pos)
        : { t: "prevote-req", term: this.term + 1, ...pos };
    if (this.role !== "candidate" && this.role !== "precandidate") return;
    for (let p = 0; p < this.hostCount; p++)
      if (p !== this.self && !this.grants.has(p)) out.push({ to: p, msg });
    this.retryAt = now + this.cfg.heartbeatMs;
  }

  private voteReq(pos: LogPosition): ElectionCtrl {
    const req: ElectionCtrl = { t: "vote-req", term: this.term, ...pos };
    if (this.transferring) req.transfer = true;
    return req;
  }

  private startElection(now: number, out: ElectionOut, transfer = false): void {
    this.transferring = transfer;
    this.role = "candidate";
    this.term++;
    this.votedFor = this.self;
    this.dirty = true;
    this.grants = new Set([this.self]);
    this.voteReqSentAt = now;
    this.deadline = now + this.randomTimeout();
    if (this.countsVotes()) {
      this.becomeLeader();
      return;
    }
    out.push({ to: "all", msg: this.voteReq(this.log()) });
    this.retryAt = now + this.cfg.heartbeatMs;
  }

  private becomeLeader(): void {
    this.role = "leader";
    this.leader = this.self;
    this.retryAt = Number.POSITIVE_INFINITY;
    this.roundSentAt.clear();
    this.lastAck.fill(Number.NEGATIVE_INFINITY);
    // A vote is a promise not to vote again within an election timeout: it counts as an ack.
    for (const g of this.grants) this.lastAck[g] = this.voteReqSentAt;
    this.leaseUntil = this.voteReqSentAt + this.cfg.leaseMs;
    this.quorumDeadline = this.voteReqSentAt + this.cfg.electionTimeoutMs;
  }

  /** The lease runs from the quorum-th most recent answer (our own counts as now). */
  private renewLease(): void {
    // The (quorum - 1)-th most recent answer of the others, as sorting them newest first
    // and taking index quorum - 2 would give (a typed array, sorted ascending: no allocation).
    const k = this.cfg.quorum - 2;
    const others = this.ackScratch;
    if (k < 0 || k >= others.length) return;
    let j = 0;
    for (let p = 0; p < this.lastAck.length; p++)
      if (p !== this.self) others[j++] = this.lastAck[p] as number;
    others.sort();
    const kth = others[others.length - 1 - k] as number;
    if (kth + this.cfg.leaseMs > this.leaseUntil) this.leaseUntil = kth + this.cfg.leaseMs;
    if (kth + this.cfg.electionTimeoutMs > this.quorumDeadline)
      this.quorumDeadline = kth + this.cfg.electionTimeoutMs;
  }

  /**
   * Planned stop of the leader (etcd's move-leader, Raft's TimeoutNow): give up leadership
   * and the lease at once, then ask `to` to start its election now. The lease is gone before
   * the request leaves, so the successor may take over without waiting for it to run out.
   * Returns false when we do not lead (or `to` is ourselves).
   */
  transferTo(to: NodeId, now: number, out: ElectionOut): boolean {
    if (this.role !== "leader" || to === this.self) return false;
    const term = this.term;
    this.becomeFollower(term, undefined, now);
    out.push({ to, msg: { t: "timeout-now", term } });
    return true;
  }

  /** Leader: one heartbeat round to every peer (call every heartbeatMs). */
  heartbeat(now: number, out: ElectionOut): void {
    if (this.role !== "leader") return;
    const r = ++this.round;
    this.roundSentAt.set(r, now);
    this.roundSentAt.delete(r - 64);
    out.push({ to: "all", msg: { t: "leader-hb", term: this.term, round: r } });
  }

  /** `judged` as in tick: a voter behind on its input still counts the leader as heard. */
  receive(from: NodeId, msg: ElectionCtrl, now: number, out: ElectionOut, judged = now): void {
    switch (msg.t) {
      case "prevote-req": {
        const granted =
          msg.term > this.term &&
          now >= this.promisedUntil &&
          !this.heardLeaderRecently(judged) &&
          this.role !== "leader" &&
          this.upToDateVoter(msg.lastIndex, msg.lastTerm, now);
        out.push({
          to: from,
          msg: this.answer("prevote-resp", granted ? msg.term : this.term, granted),
        });
        return;
      }
      case "prevote-resp": {
        this.forgot[from] = msg.forgot === true;
        if (this.role !== "precandidate") return;
        if (msg.granted && msg.term === this.term + 1) this.grants.add(from);
        else if (!msg.granted && msg.term > this.term) {
          this.becomeFollower(msg.term, undefined, now);
          return;
        }
        if (this.countsVotes()) this.startElection(now, out);
        return;
      }
      case "vote-req": {
        // Stickiness: while we hear from a live leader, a disruptive candidate gets nothing.
        // A transfer's candidate was asked to stand by the leader, which has given up already.
        if (
          msg.term > this.term &&
          this.heardLeaderRecently(judged) &&
          this.role !== "candidate" &&
          msg.transfer !== true
        ) {
          out.push({ to: from, msg: this.answer("vote-resp", this.term, false) });
          return;
        }
        if (msg.term > this.term) this.becomeFollower(msg.term, undefined, now);
        const granted =
          msg.term === this.term &&
          (this.votedFor === -1 || this.votedFor === from || this.unsafeVoteTwice) &&
          (now >= this.promisedUntil ||
            this.votedFor === from ||
            msg.transfer === true ||
            this.unsafeVoteTwice) &&
          this.role !== "leader" &&
          this.upToDateVoter(msg.lastIndex, msg.lastTerm, now);
        if (granted) {
          if (this.votedFor !== from) this.dirty = true;
          this.votedFor = from;
          this.deadline = now + this.randomTimeout();
          this.lastLeaderContact = now;
          this.promise(now);
        }
        out.push({ to: from, msg: this.answer("vote-resp", this.term, granted) });
        return;
      }
      case "vote-resp": {
        this.forgot[from] = msg.forgot === true;
        if (msg.term > this.term) {
          this.becomeFollower(msg.term, undefined, now);
          return;
        }
        if (this.role !== "candidate" || msg.term !== this.term) return;
        if (msg.granted) this.grants.add(from);
        if (this.countsVotes()) this.becomeLeader();
        return;
      }
      case "leader-hb": {
        if (msg.term < this.term) {
          out.push({ to: from, msg: { t: "leader-ack", term: this.term, round: msg.round } });
          return;
        }
        if (this.role === "leader" && msg.term === this.term) return; // impossible with one vote per term
        if (this.role !== "follower" || this.leader !== from || msg.term > this.term) {
          this.becomeFollower(msg.term, from, now);
        }
        this.lastLeaderContact = now;
        this.deadline = now + this.randomTimeout();
        this.promise(now);
        out.push({ to: from, msg: { t: "leader-ack", term: this.term, round: msg.round } });
        return;
      }
      case "timeout-now": {
        // Only from the leader we follow, in its term: a stale or stray request is ignored.
        if (msg.term !== this.term || this.role !== "follower" || this.leader !== from) return;
        this.startElection(now, out, true);
        return;
      }
      case "leader-ack": {
        if (msg.term > this.term) {
          this.becomeFollower(msg.term, undefined, now);
          return;
        }
        if (this.role !== "leader" || msg.term !== this.term) return;
        const sentAt = this.roundSentAt.get(msg.round);
        if (sentAt === undefined || sentAt <= (this.lastAck[from] as number)) return;
        this.lastAck[from] = sentAt;
        this.renewLease();
        return;
      }
    }
  }

  /** A leader's message with a higher or equal term seen elsewhere (e.g. in an append). */
  observeLeader(from: NodeId, term: Term, now: number): void {
    if (term < this.term) return;
    if (this.role !== "follower" || this.leader !== from || term > this.term)
      this.becomeFollower(term, from, now);
    this.lastLeaderContact = now;
    this.deadline = now + this.randomTimeout();
  }

  observeTerm(term: Term, now: number): void {
    if (term > this.term) this.becomeFollower(term, undefined, now);
  }

  /** In judged time (see tick); the lease's end is the shell's to watch (`leaseUntil`). */
  nextWake(): number {
    if (this.role === "leader") return this.cfg.quorum <= 1 ? this.leaseUntil : this.quorumDeadline;
    return Math.min(this.deadline, this.retryAt);
  }

  /** Votes needed vs hosts, for "waiting for leader: 2 of 5 up, need 3". */
  get quorum(): number {
    return this.cfg.quorum;
  }

  get hosts(): number {
    return this.hostCount;
  }
}
