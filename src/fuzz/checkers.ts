import type { Ordering } from "../core/types.js";
import { convergence, leaders, leases, views } from "./membership-checkers.js";
import {
  type Analysis,
  analyse,
  type Delivery,
  type Life,
  type Msg,
  showLife,
  showMsg,
  type Trace,
} from "./trace.js";

/**
 * Property checkers for extended virtual synchrony over a recorded history. Each is a pure
 * function of the trace: it derives what it needs (lives, messages, views, happened-before)
 * from the history alone — never from the protocol's own "peer up" events or the metadata it
 * stamps — and returns null or one failure message.
 *
 * Messages are identified by (sender, seq, text); the fuzz runner makes texts unique. A life
 * begins at a start or a rejoin and ends at a crash or the next rejoin; the lives up at the
 * end of the history are "live". Deliveries marked `history` are state transfer.
 */
export type Checker = (tr: Trace) => string | null;

const show = (d: Delivery): string => showMsg(d.from, d.seq, d.text);
const showM = (m: Msg): string => showMsg(m.from, m.seq, m.text);
const label = (a: Analysis, id: string): string => {
  const m = a.msgs.get(id);
  return m ? showM(m) : id;
};
const kindOf = (d: Delivery): string => (d.history ? " as history" : "");

/**
 * Integrity: a life delivers only messages that were sent, never before they were sent, and
 * each at most once (history deliveries included); nothing is delivered by a life that is
 * not running; a life's state transfer comes before its first live delivery; and no stale
 * message is delivered live: never one of an earlier life of the life's own node and, with
 * `sentBefore` (fifo and causal, where a message is delivered in the view it was multicast
 * in), never one sent before the life began — the group's past reaches a new life only as
 * history. (In total order a message handed to the sequencer before a life began may be
 * ordered, and so delivered live, after it joined.)
 */
export function makeIntegrity(sentBefore: boolean): Checker {
  return (tr) => integrityOf(tr, sentBefore);
}

function integrityOf(tr: Trace, sentBefore: boolean): string | null {
  const a = analyse(tr);
  if (a.ambiguous) return `integrity: ${a.ambiguous}`;
  const o = a.orphans[0];
  if (o) {
    return `integrity: node ${o.d.node} delivered ${show(o.d)} at t=${o.d.t} in incarnation ${o.d.inc}, which was not running`;
  }
  for (const l of a.lifeList) {
    const seen = new Map<string, number>();
    let live: Delivery | undefined;
    for (const { d, index, id } of a.deliveries.get(l.key) ?? []) {
      const m = a.msgs.get(id);
      if (m && m.index <= index && !seen.has(m.id)) {
        // The common case, every rule checked without building the failure text.
        const stale =
          (!d.history && m.life.node === l.node && m.life !== l) ||
          (sentBefore && !d.history && m.index < l.begin) ||
          (d.history && live !== undefined);
        if (!stale) {
          seen.set(m.id, d.t);
          if (!d.history) live ??= d;
          continue;
        }
      }
      const who = showLife(l);
      if (!m) return `integrity: ${who} delivered ${show(d)}${kindOf(d)}, which was never sent`;
      if (m.index > index) {
        return `integrity: ${who} delivered ${show(d)}${kindOf(d)} before it was sent`;
      }
      const first = seen.get(m.id);
      if (first !== undefined) {
        return `integrity: ${who} delivered ${show(d)} twice (t=${first} and t=${d.t}${kindOf(d)})`;
      }
      seen.set(m.id, d.t);
      if (!d.history && m.life.node === l.node && m.life !== l) {
        return `integrity: ${who} delivered ${showM(m)} of its own earlier life (inc ${m.inc}) live at t=${d.t}: a stale message (only state transfer may bring it)`;
      }
      if (sentBefore && !d.history && m.index < l.begin) {
        return `integrity: ${who} delivered ${showM(m)} live at t=${d.t}, sent at t=${m.t} before this life began (t=${tr.events[l.begin]?.t}): a stale message (only state transfer may bring it)`;
      }
      if (d.history && live) {
        return `integrity: ${who} delivered ${show(d)} as history at t=${d.t} after its live delivery of ${show(live)}`;
      }
      if (!d.history) live ??= d;
    }
  }
  return null;
}

/** Integrity in every mode (without the fifo/causal rule on messages sent before a life). */
export const integrity: Checker = makeIntegrity(false);

/** More lives than any plan can make without a rejoin storm: the pairwise checkers give up. */
export const MAX_LIVES = 300;

function tooManyLives(a: Analysis, name: string): string | null {
  if (a.lifeList.length <= MAX_LIVES) return null;
  return `${name}: not judged: the run had ${a.lifeList.length} lives (more than ${MAX_LIVES}; rejoins without end?)`;
}

/** The checkers rely on complete state transfer: a run sends at most historyMessages messages. */
function historyTooShort(a: Analysis, tr: Trace, name: string): string | null {
  const h = tr.historyMessages;
  if (h === undefined || a.msgs.size <= h) return null;
  return `${name}: the run sent ${a.msgs.size} messages, more than historyMessages (${h}): a new life cannot be owed them all`;
}

function delivered(a: Analysis): Map<string, Set<string>> {
  const got = new Map<string, Set<string>>();
  for (const [k, list] of a.deliveries) got.set(k, new Set(list.map(({ id }) => id)));
  return got;
}

/**
 * Validity (liveness): once faults stopped and the network was quiet, every message sent by
 * a life live at the end has been delivered — live or as history — by every life live at the
 * end; and every send() such a life had accepted has left (a message held back while the node
 * was between views must go out once it is in one).
 */
export const validity: Checker = (tr) => {
  const a = analyse(tr);
  const short = historyTooShort(a, tr, "validity");
  if (short) return short;
  const got = delivered(a);
  const live = a.lifeList.filter((l) => l.live);
  for (const l of live) {
    const sent = new Set((a.sendsByLife.get(l.key) ?? []).map((m) => m.text));
    for (const acc of a.accepts.get(l.key) ?? []) {
      if (sent.has(acc.text)) continue;
      return `validity: live ${showLife(l)} accepted a send at t=${acc.t} ("${acc.text.slice(0, 12)}") that never left`;
    }
  }
  for (const m of a.msgs.values()) {
    if (!m.life.live) continue;
    for (const r of live) {
      if (got.get(r.key)?.has(m.id)) continue;
      return `validity: live ${showLife(r)} never delivered ${showM(m)} (sent at t=${m.t} by live ${showLife(m.life)})`;
    }
  }
  return null;
};

/**
 * Agreement, in three parts.
 * - Uniform among survivors: a message delivered by any life live at the end is delivered
 *   (live or as history) by every life live at the end.
 * - Every live (non-history) delivery happens while its life has an installed view that
 *   contains it (its node, with its incarnation).
 * - View synchrony: two lives that install view V and then the same next view deliver the
 *   same set of messages (not counting history) while in V.
 */
export const agreement: Checker = (tr) => {
  const a = analyse(tr);
  const short = historyTooShort(a, tr, "agreement");
  if (short) return short;
  const got = delivered(a);
  const live = a.lifeList.filter((l) => l.live);
  for (const w of live) {
    for (const id of got.get(w.key) ?? []) {
      for (const r of live) {
        if (got.get(r.key)?.has(id)) continue;
        return `agreement: live ${showLife(r)} never delivered ${label(a, id)} (live ${showLife(w)} delivered it)`;
      }
    }
  }
  const out = a.outsideView[0];
  if (out) {
    const v = out.view;
    const where = v
      ? `its view ${v.id} [${v.members.map((m, i) => `${m}@${v.incs[i]}`).join(",")}] does not contain it`
      : "it had installed no view yet";
    return `agreement: ${showLife(out.life)} delivered ${show(out.d)} at t=${out.d.t} outside a view: ${where}`;
  }
  const pairs = new Map<string, { life: Life; set: Set<string> }>();
  for (const l of a.lifeList) {
    const list = a.views.get(l.key) ?? [];
    for (let i = 0; i + 1 < list.length; i++) {
      const v = list[i];
      const next = list[i + 1];
      if (!v || !next) continue;
      const key = `${v.id}>${next.id}`;
      const set = new Set(v.delivered);
      const prev = pairs.get(key);
      if (!prev) {
        pairs.set(key, { life: l, set });
        continue;
      }
      const diff = (x: Set<string>, y: Set<string>): string | undefined => {
        for (const id of x) if (!y.has(id)) return id;
        return undefined;
      };
      const onlyPrev = diff(prev.set, set);
      const onlyThis = diff(set, prev.set);
      const id = onlyPrev ?? onlyThis;
      if (id === undefined) continue;
      const [has, lacks] = onlyPrev !== undefined ? [prev.life, l] : [l, prev.life];
      return `agreement: ${showLife(has)} and ${showLife(lacks)} both went from view ${v.id} to view ${next.id}, but only ${showLife(has)} delivered ${label(a, id)} in view ${v.id}`;
    }
  }
  return null;
};

/**
 * FIFO: per receiving life and sending life, the sender's messages are delivered (history
 * included) in send order, from its first message on, with no gap.
 */
export const fifo: Checker = (tr) => {
  const a = analyse(tr);
  const short = historyTooShort(a, tr, "fifo");
  if (short) return short;
  for (const r of a.lifeList) {
    const last = new Map<string, Msg>();
    for (const { d, id } of a.deliveries.get(r.key) ?? []) {
      const m = a.msgs.get(id);
      if (!m) continue;
      const prev = last.get(m.life.key);
      last.set(m.life.key, m);
      const want = prev ? prev.pos + 1 : 0;
      if (m.pos === want) continue;
      if (prev && m.pos <= prev.pos) {
        return `fifo: ${showLife(r)} delivered ${showM(m)}${kindOf(d)} after ${showM(prev)}, which was sent later`;
      }
      const missing = (a.sendsByLife.get(m.life.key) ?? [])[want];
      return `fifo: ${showLife(r)} delivered ${showM(m)}${kindOf(d)} without first delivering ${missing ? showM(missing) : "?"}, which was sent before it`;
    }
  }
  return null;
};

/**
 * Causal: if send(m1) happened-before send(m2), every life that delivers m2 has delivered m1
 * before. Happened-before is rebuilt from the history with vector clocks over lives: a send
 * follows the earlier sends and deliveries (history deliveries included) of the same life.
 */
export const causal: Checker = (tr) => {
  const a = analyse(tr);
  const short = historyTooShort(a, tr, "causal") ?? tooManyLives(a, "causal");
  if (short) return short;
  // Sparse vector clocks over lives: a run may have many lives, each knowing few.
  const clock = a.lifeList.map(() => new Map<number, number>());
  const vcOf = new Map<string, Map<number, number>>();
  /** Per receiving life: per sending life, the positions delivered and the gap-free prefix. */
  const done = a.lifeList.map(() => new Map<number, Set<number>>());
  const prefix = a.lifeList.map(() => new Map<number, number>());
  const lifeAt = a.lifeAt;
  for (let i = 0; i < tr.events.length; i++) {
    const e = tr.events[i];
    const life = lifeAt[i];
    if (!e || !life || (e.kind !== "send" && e.kind !== "deliver")) continue;
    const c = clock[life.idx] as Map<number, number>;
    const id = a.ids[i] as string;
    if (e.kind === "send") {
      c.set(life.idx, (c.get(life.idx) ?? 0) + 1);
      vcOf.set(id, new Map(c));
      continue;
    }
    const m = a.msgs.get(id);
    const vc = m ? vcOf.get(m.id) : undefined;
    if (!m || !vc) continue;
    const have = prefix[life.idx] as Map<number, number>;
    for (const [p, v] of vc) {
      const need = v - (p === m.life.idx ? 1 : 0);
      const got = have.get(p) ?? 0;
      if (got >= need) continue;
      const src = a.lifeList[p] as Life;
      const before = (a.sendsByLife.get(src.key) ?? [])[got];
      const b = before ? showM(before) : "?";
      return `causal: ${showLife(life)} delivered ${showM(m)}${kindOf(e)} before ${b}, although the send of ${b} happened-before the send of ${showM(m)}`;
    }
    const mine = done[life.idx] as Map<number, Set<number>>;
    const set = mine.get(m.life.idx) ?? new Set<number>();
    mine.set(m.life.idx, set);
    set.add(m.pos);
    let k = have.get(m.life.idx) ?? 0;
    while (set.has(k)) k++;
    have.set(m.life.idx, k);
    for (const [p, v] of vc) if ((c.get(p) ?? 0) < v) c.set(p, v);
  }
  return null;
};

/**
 * Total: any two lives deliver the messages they have in common (history included) in the
 * same relative order, and with no gap between them: every message one life delivered
 * between two common ones, the other delivered too. Together: one sequence, of which each
 * life delivers a contiguous stretch.
 */
export const total: Checker = (tr) => {
  const a = analyse(tr);
  const many = tooManyLives(a, "total");
  if (many) return many;
  // Each life's sequence of distinct messages (a repeat is integrity's business).
  const seqs = a.lifeList.map((l) => {
    const set = new Set((a.deliveries.get(l.key) ?? []).map(({ id }) => id));
    return { l, ids: [...set], set };
  });
  for (let i = 0; i < seqs.length; i++) {
    for (let j = i + 1; j < seqs.length; j++) {
      const x = seqs[i] as (typeof seqs)[number];
      const y = seqs[j] as (typeof seqs)[number];
      const cx = x.ids.filter((id) => y.set.has(id));
      const cy = y.ids.filter((id) => x.set.has(id));
      for (let k = 0; k < cx.length; k++) {
        const u = cx[k] as string;
        const v = cy[k] as string;
        if (u === v) continue;
        return `total: ${showLife(x.l)} delivered ${label(a, u)} before ${label(a, v)} but ${showLife(y.l)} delivered them the other way round`;
      }
      // No gaps: between two lives that stay up to the end (both hold the group's whole
      // sequence, history included). A life that ended may have delivered positions the
      // group later lost (the README's "Total order and lost memory" limit): it only must
      // agree on the order of what it shares with the others.
      if (cx.length < 2 || !x.l.live || !y.l.live) continue;
      for (const [p, q] of [
        [x, y],
        [y, x],
      ] as const) {
        const from = p.ids.indexOf(cx[0] as string);
        const to = p.ids.indexOf(cx[cx.length - 1] as string);
        for (let k = from + 1; k < to; k++) {
          const z = p.ids[k] as string;
          if (q.set.has(z)) continue;
          const before = [...p.ids.slice(from, k)].reverse().find((id) => q.set.has(id)) as string;
          const after = p.ids.slice(k + 1, to + 1).find((id) => q.set.has(id)) as string;
          return `total: ${showLife(p.l)} delivered ${label(a, z)} between ${label(a, before)} and ${label(a, after)}, which ${showLife(q.l)} delivered with nothing in between`;
        }
      }
    }
  }
  // Durability: a position is lost only if a process that stored it lost its memory (a
  // restart: the log is kept in memory). In a run where no process restarted, whatever any
  // life delivered, every life that is up at the end has delivered too (live or as history).
  const restarted = a.lifeList.some((l) => l.via === "start" && !l.first);
  if (!restarted) {
    const live = seqs.filter((x) => x.l.live);
    for (const x of seqs) {
      for (const id of x.ids) {
        const missing = live.find((y) => !y.set.has(id));
        if (missing)
          return `total: ${showLife(x.l)} delivered ${label(a, id)}, which live ${showLife(missing.l)} never delivered, in a run where no process restarted (no log was lost)`;
      }
    }
  }
  return null;
};

/** Boundedness: after quiescence no hold-back queue, retransmission or reorder buffer is left. */
export const boundedness: Checker = (tr) => {
  const a = analyse(tr);
  for (const l of a.lifeList) {
    if (!l.live) continue;
    const f = tr.final.find((x) => x.node === l.node);
    if (!f) return `boundedness: no final state recorded for live ${showLife(l)}`;
    if (f.heldBack > 0 || f.unackedToLive > 0 || f.outOfOrderFromLive > 0 || f.retained > 0) {
      return `boundedness: after quiescence ${showLife(l)} still holds ${f.heldBack} held-back message(s), ${f.unackedToLive} unacknowledged fragment(s) towards live peers, ${f.outOfOrderFromLive} out-of-order fragment(s) from live peers and ${f.retained} message(s) kept for relaying`;
    }
  }
  return null;
};

export const CHECKERS: Readonly<Record<string, Checker>> = {
  leaders,
  leases,
  views,
  convergence,
  integrity,
  validity,
  agreement,
  fifo,
  causal,
  total,
  boundedness,
};

/** The checkers that apply to a mode, by name. */
export function checkersFor(mode: Ordering): Array<[string, Checker]> {
  const names = [
    "integrity",
    "validity",
    "agreement",
    "fifo",
    "boundedness",
    "leaders",
    "leases",
    "views",
    "convergence",
  ];
  if (mode === "causal") names.push("causal");
  if (mode === "total") names.push("total");
  const strict = makeIntegrity(mode !== "total");
  return names.map((n) => [n, n === "integrity" ? strict : (CHECKERS[n] as Checker)]);
}

/** Run every checker for the mode (or only those named); the failure messages. */
export function checkTrace(mode: Ordering, tr: Trace, only?: readonly string[]): string[] {
  const out: string[] = [];
  for (const [name, c] of checkersFor(mode)) {
    if (only && !only.includes(name)) continue;
    const r = c(tr);
    if (r !== null) out.push(r);
  }
  return out;
}
