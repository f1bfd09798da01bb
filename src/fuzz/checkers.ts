import type { Ordering } from "../core/types.js";
import { convergence, leaders, leases, views } from "./membership-checkers.js";
import {
  analyse,
  type Delivery,
  type Life,
  lifeKey,
  type Msg,
  msgId,
  owed,
  showLife,
  showMsg,
  type Trace,
} from "./trace.js";

/**
 * Property checkers over a recorded history. Each is a pure function of the trace, derives
 * what it needs (lives, messages, happened-before) from the history alone — never from the
 * metadata the protocol stamps — and returns null or one failure message.
 *
 * Messages are identified by (sender, seq, text); the fuzz runner makes texts unique.
 */
export type Checker = (tr: Trace) => string | null;

const show = (d: Delivery): string => showMsg(d.from, d.seq, d.text);
const showM = (m: Msg): string => showMsg(m.from, m.seq, m.text);

/** Integrity: nothing delivered that was not sent (before), nothing delivered twice by one life. */
export const integrity: Checker = (tr) => {
  const a = analyse(tr);
  if (a.ambiguous) return `integrity: ${a.ambiguous}`;
  const seen = new Map<string, number>();
  const alive = new Map<number, string>();
  for (let i = 0; i < tr.events.length; i++) {
    const e = tr.events[i];
    if (!e) continue;
    if (e.kind === "start" || e.kind === "rejoin") alive.set(e.node, lifeKey(e.node, e.inc));
    if (e.kind === "crash") alive.delete(e.node);
    if (e.kind !== "deliver") continue;
    const who = `node ${e.node} (inc ${e.inc})`;
    if (alive.get(e.node) !== lifeKey(e.node, e.inc)) {
      return `integrity: ${who} delivered ${show(e)} at t=${e.t} while that life was not up`;
    }
    const m = a.msgs.get(msgId(e.from, e.seq, e.text));
    if (!m) return `integrity: ${who} delivered ${show(e)}, which was never sent`;
    if (m.index > i) return `integrity: ${who} delivered ${show(e)} before it was sent`;
    const k = `${lifeKey(e.node, e.inc)}|${m.id}`;
    const first = seen.get(k);
    if (first !== undefined) {
      return `integrity: ${who} delivered ${show(e)} twice (t=${first} and t=${e.t})`;
    }
    seen.set(k, e.t);
  }
  return null;
};

/**
 * FIFO: per receiving life and sending life, messages are delivered in send order with no
 * gap. A restarted life may begin anywhere in a sender's stream (see `owed`), then no gaps.
 */
export const fifo: Checker = (tr) => {
  const a = analyse(tr);
  for (const [rk, list] of a.deliveries) {
    const r = a.lives.get(rk);
    if (!r) continue;
    const last = new Map<string, Msg>();
    for (const { d } of list) {
      const m = a.msgs.get(msgId(d.from, d.seq, d.text));
      if (!m) continue;
      const prev = last.get(m.life.key);
      last.set(m.life.key, m);
      const want = prev ? prev.pos + 1 : r.first || m.life === r ? 0 : m.pos;
      if (m.pos === want) continue;
      const sends = a.sendsByLife.get(m.life.key) ?? [];
      if (prev && m.pos <= prev.pos) {
        return `fifo: ${showLife(r)} delivered ${showM(m)} after ${showM(prev)}, which was sent later`;
      }
      const missing = sends[want];
      return `fifo: ${showLife(r)} delivered ${showM(m)} without first delivering ${missing ? showM(missing) : "?"}, which was sent before it`;
    }
  }
  return null;
};

/**
 * Causal: if send(m1) happened-before send(m2), every life that delivers m2 has delivered m1
 * before. Happened-before is rebuilt from the history with vector clocks over lives: a send
 * follows the earlier sends and deliveries of the same life.
 */
export const causal: Checker = (tr) => {
  const a = analyse(tr);
  const n = a.lifeList.length;
  const clock = a.lifeList.map(() => new Array<number>(n).fill(0));
  const vcOf = new Map<string, number[]>();
  const done = a.lifeList.map(() => a.lifeList.map(() => new Set<number>()));
  const prefix = a.lifeList.map(() => new Array<number>(n).fill(0));
  for (const e of tr.events) {
    if (e.kind !== "send" && e.kind !== "deliver") continue;
    const life = a.lives.get(lifeKey(e.node, e.inc));
    if (!life) continue;
    const c = clock[life.idx] as number[];
    if (e.kind === "send") {
      c[life.idx] = (c[life.idx] as number) + 1;
      vcOf.set(msgId(e.node, e.seq, e.text), c.slice());
      continue;
    }
    const m = a.msgs.get(msgId(e.from, e.seq, e.text));
    const vc = m ? vcOf.get(m.id) : undefined;
    if (!m || !vc) continue;
    const have = prefix[life.idx] as number[];
    for (let p = 0; p < n; p++) {
      const need = (vc[p] as number) - (p === m.life.idx ? 1 : 0);
      if ((have[p] as number) >= need) continue;
      const src = a.lifeList[p] as Life;
      const before = (a.sendsByLife.get(src.key) ?? [])[have[p] as number];
      const b = before ? showM(before) : "?";
      return `causal: ${showLife(life)} delivered ${showM(m)} before ${b}, although the send of ${b} happened-before the send of ${showM(m)}`;
    }
    const set = (done[life.idx] as Array<Set<number>>)[m.life.idx] as Set<number>;
    set.add(m.pos);
    while (set.has(have[m.life.idx] as number)) have[m.life.idx] = (have[m.life.idx] as number) + 1;
    for (let p = 0; p < n; p++) c[p] = Math.max(c[p] as number, vc[p] as number);
  }
  return null;
};

/** Total: the delivered sequences of any two lives are prefixes of one another. */
export const total: Checker = (tr) => {
  const a = analyse(tr);
  const seqs = a.lifeList.map((l) => ({
    l,
    ids: (a.deliveries.get(l.key) ?? []).map(({ d }) => msgId(d.from, d.seq, d.text)),
  }));
  const label = (id: string): string => {
    const m = a.msgs.get(id);
    return m ? showM(m) : id;
  };
  for (let i = 0; i < seqs.length; i++) {
    for (let j = i + 1; j < seqs.length; j++) {
      const x = seqs[i] as { l: Life; ids: string[] };
      const y = seqs[j] as { l: Life; ids: string[] };
      const len = Math.min(x.ids.length, y.ids.length);
      for (let k = 0; k < len; k++) {
        const u = x.ids[k] as string;
        const v = y.ids[k] as string;
        if (u === v) continue;
        if (x.ids.includes(v) && y.ids.includes(u)) {
          return `total: ${showLife(x.l)} delivered ${label(u)} before ${label(v)} but ${showLife(y.l)} delivered them the other way round`;
        }
        return `total: delivered sequences are not prefixes of one another: delivery ${k + 1} is ${label(u)} at ${showLife(x.l)} but ${label(v)} at ${showLife(y.l)}`;
      }
    }
  }
  return null;
};

function missingAtLive(tr: Trace, fromLiveSendersOnly: boolean, name: string): string | null {
  const a = analyse(tr);
  const got = new Map<string, Set<string>>();
  for (const [k, list] of a.deliveries) {
    got.set(k, new Set(list.map(({ d }) => msgId(d.from, d.seq, d.text))));
  }
  const live = a.lifeList.filter((l) => l.live);
  for (const m of a.msgs.values()) {
    let witness: Life | undefined;
    if (fromLiveSendersOnly) {
      if (!m.life.live) continue;
    } else {
      witness = live.find((l) => got.get(l.key)?.has(m.id));
      if (!witness) continue;
    }
    for (const r of live) {
      if (!owed(a, m, r) || got.get(r.key)?.has(m.id)) continue;
      const why = witness
        ? `${showLife(witness)} delivered it`
        : `sent at t=${m.t} by live ${showLife(m.life)}`;
      return `${name}: live ${showLife(r)} never delivered ${showM(m)} (${why})`;
    }
  }
  return null;
}

/**
 * Validity (liveness): once faults stopped and the network was quiet, every message sent by a
 * life that is still up has been delivered by every life that is up and owed it (`owed`).
 */
export const validity: Checker = (tr) => missingAtLive(tr, true, "validity");

/** Agreement: a message delivered by any live life is delivered by every live life owed it. */
export const agreement: Checker = (tr) => missingAtLive(tr, false, "agreement");

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
  return names.map((n) => [n, CHECKERS[n] as Checker]);
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
