import type { NodeId } from "../types.js";
import type { MembershipConfig } from "./config.js";

export type Health = "unknown" | "alive" | "suspect" | "dead";

/** Unreliable control messages of the failure detector (ride in a frame's control section). */
export type ProbeCtrl =
  | { t: "ping-req"; target: NodeId; nonce: number }
  | { t: "ping"; origin: NodeId; nonce: number }
  | { t: "pong"; origin: NodeId; nonce: number; target: NodeId };

export interface HealthChange {
  peer: NodeId;
  from: Health;
  to: Health;
}

/**
 * SWIM-style failure detector over direct contact: any frame from a peer is evidence it
 * lives. Silence first triggers indirect probes through other members, then suspicion
 * (refuted by any frame), then death. Lifeguard-style self-awareness: when this process
 * itself stalled (a long event-loop pause, SIGSTOP), the stall is not blamed on the peers.
 */
export class FailureDetector {
  /** Direct contact: the last frame from each peer. */
  private readonly lastHeard: number[];
  /** The leader's word (vouch): when the leader last heard each peer, as it told us. */
  private readonly vouched: number[];
  /**
   * Peers whose vouches do not count (the node sets it: data to them has been stuck longer
   * than probeAfterMs without a word from them, so we may be cut off from them although the
   * leader is not).
   */
  readonly distrust: boolean[];
  private readonly health: Health[];
  private readonly probing: boolean[];
  private nonce = 0;
  private rotate = 0;

  constructor(
    private readonly self: NodeId,
    hostCount: number,
    private readonly cfg: MembershipConfig,
  ) {
    this.lastHeard = new Array<number>(hostCount).fill(0);
    this.vouched = new Array<number>(hostCount).fill(Number.NEGATIVE_INFINITY);
    this.distrust = new Array<boolean>(hostCount).fill(false);
    this.health = new Array<Health>(hostCount).fill("unknown");
    this.probing = new Array<boolean>(hostCount).fill(false);
    this.health[self] = "alive";
  }

  state(p: NodeId): Health {
    return this.health[p] ?? "unknown";
  }

  /**
   * Silent past `probeAfterMs`: probed or suspected. Such a peer is heard again or declared
   * dead within `deadAfterMs` of its last frame; until then, it may not answer a request.
   */
  unsure(p: NodeId): boolean {
    const h = this.health[p];
    return h === "suspect" || (h === "alive" && this.probing[p] === true);
  }

  /** Peers alive or suspect (still members). */
  live(p: NodeId): boolean {
    const h = this.health[p];
    return h === "alive" || h === "suspect";
  }

  heard(p: NodeId, now: number, out: HealthChange[]): void {
    if (p === this.self) return;
    this.lastHeard[p] = now;
    this.probing[p] = false;
    const h = this.health[p] as Health;
    if (h !== "alive") {
      this.health[p] = "alive";
      out.push({ peer: p, from: h, to: "alive" });
    }
  }

  /**
   * The leader says it heard `p` at `at`: contact as good as our own (followers heartbeat only
   * the leader, README "Membership"). It never brings back a peer we do not count live: only
   * its own frames do, since we must learn its life from them.
   */
  vouch(p: NodeId, at: number, now: number, out: HealthChange[]): void {
    if (p === this.self) return;
    const h = this.health[p];
    if ((h !== "alive" && h !== "suspect") || at <= (this.vouched[p] as number)) return;
    this.vouched[p] = at;
    if (this.distrust[p]) return;
    if (now < at + this.cfg.probeAfterMs) this.probing[p] = false;
    if (h === "suspect" && now < at + this.cfg.suspectAfterMs) {
      this.health[p] = "alive";
      out.push({ peer: p, from: h, to: "alive" });
    }
  }

  /** When `p` was last heard from, directly or (unless distrusted) through the leader. */
  private last(p: NodeId): number {
    const d = this.lastHeard[p] as number;
    if (this.distrust[p]) return d;
    const v = this.vouched[p] as number;
    return v > d ? v : d;
  }

  /** ms since each host was last heard from directly (0 for self), -1 for those not live. */
  ages(now: number, out: number[]): number[] {
    out.length = this.health.length;
    for (let p = 0; p < this.health.length; p++) {
      const h = this.health[p];
      if (p === this.self) out[p] = 0;
      else if (h !== "alive" && h !== "suspect") out[p] = -1;
      else out[p] = Math.max(0, Math.round(now - (this.lastHeard[p] as number)));
    }
    return out;
  }

  /** This process was frozen for `ms`: the silence was ours, not theirs. */
  stalled(ms: number): void {
    for (let p = 0; p < this.lastHeard.length; p++) {
      this.lastHeard[p] = (this.lastHeard[p] as number) + ms;
      this.vouched[p] = (this.vouched[p] as number) + ms;
    }
  }

  /**
   * Advance timers: indirect probes, suspicion, death. Silence is judged at `judged`, or at
   * `fresh` for a peer last heard at or after `freshAfter` (the end of our own last stall).
   */
  tick(
    judged: number,
    out: HealthChange[],
    ctrl: Array<{ to: NodeId; msg: ProbeCtrl }>,
    fresh = judged,
    freshAfter = Number.POSITIVE_INFINITY,
  ): void {
    const n = this.health.length;
    for (let p = 0; p < n; p++) {
      const h = this.health[p] as Health;
      if (p === this.self || (h !== "alive" && h !== "suspect")) continue;
      const last = this.last(p);
      // A peer heard from since our last stall ended is judged at `fresh` (no allowance for
      // that stall: its silence since is ours to see).
      const now = last >= freshAfter ? fresh : judged;
      // Compare as `now >= last + x`, the very sum nextWake() returns (no float drift).
      if (now >= last + this.cfg.deadAfterMs) {
        this.health[p] = "dead";
        out.push({ peer: p, from: h, to: "dead" });
      } else if (now >= last + this.cfg.suspectAfterMs && h === "alive") {
        this.health[p] = "suspect";
        out.push({ peer: p, from: h, to: "suspect" });
      } else if (now >= last + this.cfg.probeAfterMs && !this.probing[p]) {
        this.probing[p] = true;
        const nonce = ++this.nonce;
        for (const helper of this.helpers(p))
          ctrl.push({ to: helper, msg: { t: "ping-req", target: p, nonce } });
      }
    }
  }

  /** Up to k live members other than self and target, rotating for fairness. */
  private helpers(target: NodeId): NodeId[] {
    const n = this.health.length;
    const res: NodeId[] = [];
    for (let i = 0; i < n && res.length < this.cfg.indirectProbes; i++) {
      const p = (this.rotate + i) % n;
      if (p !== this.self && p !== target && this.health[p] === "alive") res.push(p);
    }
    this.rotate = (this.rotate + 1) % n;
    return res;
  }

  /** Next time something may change (for the shell's timer). */
  nextWake(): number | undefined {
    let t: number | undefined;
    for (let p = 0; p < this.health.length; p++) {
      const h = this.health[p];
      if (p === this.self || (h !== "alive" && h !== "suspect")) continue;
      const last = this.last(p);
      const next =
        h === "suspect"
          ? last + this.cfg.deadAfterMs
          : !this.probing[p]
            ? last + this.cfg.probeAfterMs
            : last + this.cfg.suspectAfterMs;
      if (t === undefined || next < t) t = next;
    }
    return t;
  }

  counts(): { alive: number; suspect: number; dead: number; unknown: number } {
    const c = { alive: 0, suspect: 0, dead: 0, unknown: 0 };
    for (const h of this.health) c[h]++;
    return c;
  }
}
