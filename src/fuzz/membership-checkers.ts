import type { Checker } from "./checkers.js";
import { analyse, showLife, type Trace } from "./trace.js";

/** Election safety: no two nodes ever claim leadership of the same term. */
export const leaders: Checker = (tr: Trace) => {
  const claims = new Map<number, number>();
  for (const e of tr.events) {
    if (e.kind !== "leader" || e.leader !== e.node) continue;
    const prev = claims.get(e.term);
    if (prev !== undefined && prev !== e.node) {
      return `leaders: nodes ${prev} and ${e.node} both report themselves leader of term ${e.term} (t=${e.t.toFixed(1)})`;
    }
    claims.set(e.term, e.node);
  }
  return null;
};

/** The members of a view with their incarnations: `0@1001,2@2003`. */
const showView = (members: readonly number[], incs: readonly number[]): string =>
  members.map((m, i) => `${m}@${incs[i] ?? "?"}`).join(",");

/**
 * View agreement: every node that installs view (term, version) installs the same member
 * list with the same incarnations (the same lives), in the same order.
 */
export const views: Checker = (tr: Trace) => {
  const seen = new Map<string, { node: number; members: string }>();
  for (const e of tr.events) {
    if (e.kind !== "view") continue;
    const id = `${e.term}.${e.version}`;
    const members = showView(e.members, e.incs);
    const prev = seen.get(id);
    if (prev && prev.members !== members) {
      return `views: view ${id} is [${prev.members}] at node ${prev.node} but [${members}] at node ${e.node}`;
    }
    if (!prev) seen.set(id, { node: e.node, members });
  }
  return null;
};

/** A node restarts at most 3 times in a plan; a few rejoins each are fine, hundreds are not. */
export const MAX_LIVES_PER_NODE = 40;

/**
 * Convergence: after the faults stop, every live node follows one leader in one view of
 * exactly the live nodes; and the last view each live life installed lists exactly the live
 * lives (the running incarnations, taken from the history).
 */
export const convergence: Checker = (tr: Trace) => {
  const a = analyse(tr);
  const count = new Map<number, number>();
  for (const l of a.lifeList) count.set(l.node, (count.get(l.node) ?? 0) + 1);
  for (const [node, n] of count) {
    if (n > MAX_LIVES_PER_NODE) {
      return `convergence: node ${node} went through ${n} lives (rejoins without end; a plan restarts a node at most 3 times)`;
    }
  }
  const live = tr.final.map((f) => f.node).sort((a, b) => a - b);
  if (live.length === 0) return null;
  const first = tr.final[0];
  if (!first) return null;
  for (const f of tr.final) {
    if (f.leader === undefined)
      return `convergence: live node ${f.node} has no leader after the faults stopped`;
    if (f.leader !== first.leader || f.term !== first.term) {
      return `convergence: node ${first.node} follows ${first.leader} (term ${first.term}) but node ${f.node} follows ${f.leader} (term ${f.term})`;
    }
    const members = [...f.view.members].sort((a, b) => a - b).join(",");
    if (members !== live.join(",")) {
      return `convergence: node ${f.node} ends in view ${f.view.term}.${f.view.version} [${members}], but the live nodes are [${live.join(",")}]`;
    }
  }
  const lives = a.lifeList.filter((l) => l.live).sort((x, y) => x.node - y.node);
  const want = showView(
    lives.map((l) => l.node),
    lives.map((l) => l.inc),
  );
  const never = lives.find((l) => (a.views.get(l.key) ?? []).length === 0);
  if (never) return `convergence: live ${showLife(never)} never installed a view`;
  for (const l of lives) {
    const v = (a.views.get(l.key) ?? []).at(-1);
    if (!v) continue;
    const order = v.members.map((m, i) => ({ m, inc: v.incs[i] ?? 0 })).sort((x, y) => x.m - y.m);
    const got = showView(
      order.map((x) => x.m),
      order.map((x) => x.inc),
    );
    if (got !== want) {
      return `convergence: live ${showLife(l)} ends in view ${v.id} [${got}], but the live lives are [${want}]`;
    }
  }
  return null;
};

/** Leader-only services: never two nodes leading with a valid lease at one instant. */
export const leases: Checker = (tr: Trace) => {
  const o = tr.leaseOverlaps ?? [];
  return o.length > 0 ? `leases: ${o[0]}` : null;
};
