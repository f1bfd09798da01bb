import { hasMember, type View } from "../membership/view.js";
import type { NodeId } from "../types.js";
import { sameViewId, type ViewId } from "./flush.js";

/**
 * The barrier before a member sends in a new view (fifo/causal): nobody may receive a message
 * of a view it has not installed, so a member sends in view V only once every member of V
 * installed it. Each member, on installing V, tells every other member (`installed`), and
 * each one starts when it has installed V and heard `installed` for V from all the others.
 *
 * The leader used to collect these reports and answer with a `start`. A leader that crashed
 * after its install went out and before its `start` did left every member waiting for the
 * dead verdict and the next view (about 0.8 s): the members all knew, between them, that
 * the view had started. Now the knowledge needs no leader.
 *
 * Per peer, only the newest view it reported: a peer installs views in order and its
 * channel to us is FIFO, so a newer report supersedes the older (and a report for a view we
 * have not installed yet waits here until we do).
 */
export class StartBarrier {
  private readonly heard: Array<{ inc: number; id: ViewId } | undefined>;

  constructor(hostCount: number) {
    this.heard = new Array(hostCount).fill(undefined);
  }

  /** Life `inc` of host `from` installed view `id`. */
  installed(from: NodeId, inc: number, id: ViewId): void {
    this.heard[from] = { inc, id: { term: id.term, version: id.version } };
  }

  /** Every member of `view` other than `self` said it installed that very view. */
  allInstalled(view: View, self: NodeId): boolean {
    for (let i = 0; i < view.members.length; i++) {
      const k = view.members[i] as NodeId;
      if (k === self) continue;
      const h = this.heard[k];
      if (!h || !sameViewId(h.id, view) || !hasMember(view, k, h.inc)) return false;
    }
    return true;
  }

  clear(): void {
    this.heard.fill(undefined);
  }
}
