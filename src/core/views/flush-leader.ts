import type { FlushOkMsg, FlushReqMsg, InstallMsg } from "../app-message.js";
import { NO_VIEW, nextView, sameMembers, type View } from "../membership/view.js";
import type { ModeContext } from "../modes/mode.js";
import type { NodeId } from "../types.js";
import { type FlushReport, planInstall, type ViewId } from "./flush.js";

/** The leader's view change in progress: who was asked, who answered. */
interface Proposal {
  id: ViewId;
  members: NodeId[];
  incs: number[];
  reports: Map<NodeId, FlushReport>;
}

/**
 * The leader's side of the view-change flush (fifo/causal): propose a view when the live
 * members differ from the last one authored (`flush-req` to every proposed member), collect
 * the reports, install (`install` with every report; `rejoin` to members from another view).
 * The members start sending in the view among themselves (views/start-barrier.ts). The
 * member side is in modes/multicast.ts; the pure parts in views/flush.ts.
 */
export class FlushLeader {
  private proposal: Proposal | undefined;
  /** The member list last proposed in this term (to see when it changes). */
  private authored: View = NO_VIEW;

  /** The inputs of the last `lead` that found nothing to do (epoch -1: none). */
  private readonly quiet: {
    epoch: number;
    term: number;
    installed: View | undefined;
    proposal: Proposal | undefined;
    authored: View | undefined;
  } = { epoch: -1, term: -1, installed: undefined, proposal: undefined, authored: undefined };

  /** Who the next view may hold, and which life (made once: `lead` runs after every input). */
  private readonly isLive: (k: NodeId) => boolean;
  private readonly incOf: (k: NodeId) => number;

  constructor(private readonly ctx: ModeContext) {
    const self = ctx.self;
    this.isLive = (k) => k === self || ctx.live(k);
    this.incOf = (k) => (k === self ? ctx.inc() : ctx.knownInc(k));
  }

  /** A flush request when a view change is due (sent to the others; ours to handle). */
  lead(installed: View): FlushReqMsg | undefined {
    if (!this.ctx.isLeader()) {
      this.reset();
      return undefined;
    }
    const term = this.ctx.term();
    const p = this.proposal;
    // Nothing the answer depends on changed since it was "no change": skip it (this runs
    // after every input of the leader).
    const epoch = this.ctx.membershipEpoch?.();
    const q = this.quiet;
    if (
      epoch !== undefined &&
      q.epoch === epoch &&
      q.term === term &&
      q.installed === installed &&
      q.proposal === p &&
      q.authored === this.authored
    )
      return undefined;
    const base = p
      ? { term, version: p.id.version, members: p.members, incs: p.incs }
      : this.authored.term === term
        ? this.authored
        : installed;
    const self = this.ctx.self;
    const target = nextView(base, self, term, this.isLive, this.incOf, this.ctx.hostCount);
    // Not remembered as "nothing to do": a member heard again is no health change (no new
    // epoch), and the proposal must then go out.
    if (target && !p && this.withUnsure(target.members)) return undefined;
    if (!target || (p && sameMembers(target, p))) {
      if (epoch !== undefined) {
        q.epoch = epoch;
        q.term = term;
        q.installed = installed;
        q.proposal = p;
        q.authored = this.authored;
      }
      return undefined;
    }
    const version =
      Math.max(
        this.authored.term === term ? this.authored.version : 0,
        p?.id.version ?? 0,
        installed.term === term ? installed.version : 0,
      ) + 1;
    return this.propose(term, version, target.members, target.incs);
  }

  /**
   * A new proposal that names a member silent past `probeAfterMs` waits (the members keep
   * sending in their view meanwhile): it would freeze everyone's sends until that member
   * answers, and one that is really gone never answers, so the group would stay frozen until
   * it is declared dead and the leader proposes again without it. Typically a new leader,
   * elected because the old one went silent, would propose its first view with the old
   * leader in it. The wait is short: such a member is heard again or declared dead within
   * `deadAfterMs` of its last frame. A proposal already out (the members frozen for it) is
   * replaced at once, as before.
   */
  private withUnsure(members: readonly NodeId[]): boolean {
    const unsure = this.ctx.unsure;
    if (!unsure) return false;
    for (const k of members) if (k !== this.ctx.self && unsure(k)) return true;
    return false;
  }

  /** Ask `members` for their reports on view (term, version) (`flush-req`; ours to handle). */
  private propose(term: number, version: number, members: NodeId[], incs: number[]): FlushReqMsg {
    const req: FlushReqMsg = { kind: "flush-req", term, version, members, incs };
    this.proposal = { id: { term, version }, members, incs, reports: new Map() };
    for (const k of members) if (k !== this.ctx.self) this.ctx.unicast(k, req);
    return req;
  }

  /** A member's report; with every report in, the install (sent to the others; ours to handle). */
  onFlushOk(from: NodeId, fromInc: number, m: FlushOkMsg): InstallMsg | FlushReqMsg | undefined {
    const p = this.proposal;
    if (!p || p.id.term !== m.term || p.id.version !== m.version) return undefined;
    const i = p.members.indexOf(from);
    if (i < 0 || p.incs[i] !== fromInc) return undefined;
    p.reports.set(from, { member: from, inc: fromInc, old: m.old, recv: m.recv, next: m.next });
    if (p.reports.size < p.members.length) return undefined;
    const reports = p.members.map((k) => p.reports.get(k) as FlushReport);
    const plan = planInstall(this.ctx.self, reports);
    for (const k of plan.rejoin) this.ctx.unicast(k, { kind: "rejoin", term: p.id.term });
    if (plan.rejoin.length > 0) return this.proposeAgain(p, plan.members);
    const keep = reports.filter((r) => plan.members.includes(r.member));
    const install: InstallMsg = {
      kind: "install",
      term: p.id.term,
      version: p.id.version,
      members: keep.map((r) => r.member),
      incs: keep.map((r) => r.inc),
      primary: plan.primary,
      reports: keep,
    };
    this.proposal = undefined;
    this.authored = {
      term: p.id.term,
      version: p.id.version,
      members: install.members,
      incs: install.incs,
    };
    for (const k of install.members) if (k !== this.ctx.self) this.ctx.unicast(k, install);
    return install;
  }

  /**
   * Some proposed members come from another view and are told to rejoin. The others let them
   * through when they reported (they were proposed to stay), so what they delivered of them
   * since is in no report: installing now could leave one member with messages another never
   * gets (fifo/causal seed 20261806). So the others are asked again, as the next version,
   * without them: they hold the rejoining senders at what they report this time, and the cut
   * covers it. Each such round drops members for good, so it ends.
   */
  private proposeAgain(p: Proposal, members: NodeId[]): FlushReqMsg {
    // Their lives are out for good: recorded as departed, they are not proposed again.
    p.members.forEach((k, i) => {
      if (!members.includes(k)) this.ctx.depart(k, p.incs[i] as number);
    });
    const incs = members.map((k) => p.incs[p.members.indexOf(k)] as number);
    return this.propose(p.id.term, p.id.version + 1, members, incs);
  }

  reset(): void {
    this.quiet.epoch = -1;
    this.proposal = undefined;
    this.authored = NO_VIEW;
  }
}
