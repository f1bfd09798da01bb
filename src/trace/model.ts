import type { NodeId } from "../core/types.js";
import type { MsgRef, TraceRecord } from "./events.js";

/**
 * The space-time diagram as data: what to draw, where in time, with the details shown on
 * hover. A pure function of the trace records; `render.ts` turns it into HTML.
 */

/**
 * How a life's lane ends. killed: a later life exists but this one never said goodbye;
 * rejoined: the same process went on as a new member (new incarnation).
 */
export type LaneEnd = "crash" | "stop" | "killed" | "rejoined" | "open";

export interface Lane {
  key: string;
  node: NodeId;
  inc: number;
  /** 1 for the node's first life in the trace, 2 after its first restart… */
  life: number;
  t0: number;
  t1: number;
  end: LaneEnd;
  /** Why this life began as a rejoin of a running process (undefined: a process start). */
  rejoin?: string;
}

/**
 * A message from its send to one delivery (msg; history: delivered by state transfer), or a
 * retransmitted datagram to its receipt (retx).
 */
export interface Arrow {
  kind: "msg" | "history" | "retx";
  from: number;
  to: number;
  t: number;
  t2: number;
  sender: NodeId;
  detail: number;
  hot: boolean;
}

/** A datagram dropped before it arrived: drawn towards its target, ending in a cross. */
export interface Drop {
  from: number;
  /** The target's lane at that time, or -1 when the target had none. */
  to: number;
  t: number;
  sender: NodeId;
  /** Carried no message (acks, heartbeats, control only). */
  control: boolean;
  detail: number;
}

/** Hold-back: from the first receipt of a message to its delivery, on the receiver's lane. */
export interface Hold {
  lane: number;
  t: number;
  t2: number;
  sender: NodeId;
  detail: number;
}

export type MarkKind =
  | "start"
  | "restart"
  | "crash"
  | "stop"
  | "killed"
  | "rejoined"
  | "send"
  | "retx"
  | "view"
  | "leader"
  | "missing";

export interface Mark {
  kind: MarkKind;
  lane: number;
  t: number;
  /** For sender filtering (undefined: always shown). */
  sender?: NodeId;
  detail: number;
  hot: boolean;
}

/** A new view or a new term's leader, first seen anywhere: drawn across all lanes. */
export interface Epoch {
  kind: "view" | "leader";
  t: number;
  label: string;
  detail: number;
}

export interface Diagram {
  title: string;
  t0: number;
  t1: number;
  /**
   * Where the diagram opens: what a violation names, else from the first send to the last
   * delivery, drop or retransmission.
   */
  focus: [number, number];
  nodes: NodeId[];
  lanes: Lane[];
  arrows: Arrow[];
  drops: Drop[];
  holds: Hold[];
  marks: Mark[];
  epochs: Epoch[];
  /** Detail text of every element, by index. */
  details: string[];
  violations: string[];
  counts: {
    messages: number;
    deliveries: number;
    drops: number;
    retransmissions: number;
    datagrams: number;
  };
}

/** Tolerance for clocks of different processes, ms: a receipt may precede its send by this much. */
const SKEW_MS = 2;

interface Sent {
  lane: number;
  t: number;
  from: NodeId;
  inc: number;
  seq: number;
  text: string;
  label: string;
}

interface Dg {
  lane: number;
  t: number;
  to: NodeId;
  rec: Extract<TraceRecord, { ev: "dgram" }>;
}

/**
 * How the fuzz checkers name a life and a message (src/fuzz/trace.ts: showLife, showMsg; a
 * test keeps them equal). Written out here: the package ships the trace command, not the fuzz
 * suite.
 */
export const lifeLabel = (node: NodeId, inc: number): string => `node ${node} (inc ${inc})`;

export function showMsg(from: NodeId, seq: number, text: string): string {
  const t = text.length > 12 ? `${text.slice(0, 12)}…(${text.length})` : text;
  return `${from}#${seq} "${t}"`;
}

/** Whether `label` occurs in `text` as a whole (not as the tail of a longer number). */
function mentions(text: string, label: string): boolean {
  let i = text.indexOf(label);
  while (i >= 0) {
    if (i === 0 || !/\d/.test(text[i - 1] as string)) return true;
    i = text.indexOf(label, i + 1);
  }
  return false;
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}

/** [min, max] of the times, or undefined when there are none. */
function range(ts: number[]): [number, number] | undefined {
  if (ts.length === 0) return undefined;
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const t of ts) {
    if (t < lo) lo = t;
    if (t > hi) hi = t;
  }
  return [lo, hi];
}

export interface DiagramOptions {
  title?: string;
  /** Checker failures: the messages and lives they name are highlighted. */
  violations?: string[];
}

export function buildDiagram(input: readonly TraceRecord[], opts: DiagramOptions = {}): Diagram {
  const records = input
    .map((r, i) => ({ r, i }))
    .sort((a, b) => a.r.t - b.r.t || a.i - b.i)
    .map((x) => x.r);
  const details: string[] = [];
  const detail = (s: string): number => details.push(s) - 1;
  const t0 = records[0]?.t ?? 0;
  const t1 = records.length > 0 ? (records[records.length - 1] as TraceRecord).t : 0;
  const rel = (t: number): string => `t=${(t - t0).toFixed(3)} ms`;

  // Lanes: one per life, ordered by node then start.
  const laneOf = new Map<string, number>();
  const lanes: Lane[] = [];
  const byLife = new Map<
    string,
    { node: NodeId; inc: number; t0: number; t1: number; end?: LaneEnd; rejoin?: string }
  >();
  for (const r of records) {
    const k = `${r.node}@${r.inc}`;
    let l = byLife.get(k);
    if (!l) {
      l = { node: r.node, inc: r.inc, t0: r.t, t1: r.t };
      byLife.set(k, l);
    } else l.t1 = r.t;
    if (r.ev === "crash" || r.ev === "stop") l.end = r.ev;
    if (r.ev === "start" && r.rejoin !== undefined) l.rejoin = r.rejoin;
  }
  const lives = [...byLife.entries()].sort(
    ([, a], [, b]) => a.node - b.node || a.t0 - b.t0 || a.inc - b.inc,
  );
  const lifeCount = new Map<NodeId, number>();
  const lastLife = new Map<NodeId, string>();
  for (const [k, l] of lives) lastLife.set(l.node, k);
  for (const [k, l] of lives) {
    const n = (lifeCount.get(l.node) ?? 0) + 1;
    lifeCount.set(l.node, n);
    const prev = lanes[lanes.length - 1];
    if (l.rejoin !== undefined && prev?.node === l.node && prev.end === "killed")
      prev.end = "rejoined";
    laneOf.set(k, lanes.length);
    const lane: Lane = {
      key: k,
      node: l.node,
      inc: l.inc,
      life: n,
      t0: l.t0,
      t1: l.t1,
      end: l.end ?? (lastLife.get(l.node) === k ? "open" : "killed"),
    };
    if (l.rejoin !== undefined) lane.rejoin = l.rejoin;
    lanes.push(lane);
  }
  const nodes = [...new Set(lanes.map((l) => l.node))].sort((a, b) => a - b);
  const laneAt = (node: NodeId, t: number): number => {
    let best = -1;
    lanes.forEach((l, i) => {
      if (l.node === node && l.t0 <= t + SKEW_MS) best = i;
    });
    return best;
  };

  const arrows: Arrow[] = [];
  const drops: Drop[] = [];
  const holds: Hold[] = [];
  const marks: Mark[] = [];

  // Pass 1: sends, views, datagrams, receipts.
  const sends = new Map<string, Sent[]>();
  const sentList: Sent[] = [];
  const dgrams = new Map<string, Dg[]>();
  const views = new Map<number, Array<{ t: number; s: string }>>();
  const receipts = new Map<string, number>();
  const epochs: Epoch[] = [];
  const seenEpochs = new Set<string>();
  const findSend = (
    from: NodeId,
    seq: number,
    t: number,
    text?: string,
    inc?: number,
  ): Sent | undefined => {
    const list = sends.get(`${from}#${seq}`) ?? [];
    let best: Sent | undefined;
    for (const s of list) {
      if (text !== undefined && s.text !== text) continue;
      if (inc !== undefined && s.inc !== inc) continue;
      if (s.t <= t + SKEW_MS) best = s;
      else if (!best) best = s;
    }
    return best;
  };
  const msgKey = (s: Sent): string => `${s.from}@${s.inc}#${s.seq}`;
  let datagrams = 0;
  let retransmissions = 0;
  const showRefs = (msgs: MsgRef[]): string =>
    msgs.length === 0
      ? "no message (acks, heartbeats or control)"
      : msgs.map((m) => `${m.from}#${m.seq}${m.kind === "chat" ? "" : ` (${m.kind})`}`).join(", ");

  for (const r of records) {
    const lane = laneOf.get(`${r.node}@${r.inc}`) as number;
    switch (r.ev) {
      case "send": {
        const s: Sent = {
          lane,
          t: r.t,
          from: r.node,
          inc: r.inc,
          seq: r.seq,
          text: r.text,
          label: showMsg(r.node, r.seq, r.text),
        };
        const k = `${r.node}#${r.seq}`;
        push(sends, k, s);
        sentList.push(s);
        break;
      }
      case "view": {
        const s = `${r.term}.${r.version} [${r.members.join(",")}]`;
        push(views, lane, { t: r.t, s });
        if (!seenEpochs.has(`v${s}`)) {
          seenEpochs.add(`v${s}`);
          epochs.push({
            kind: "view",
            t: r.t,
            label: `view ${r.term}.${r.version}`,
            detail: detail(
              `view ${s}: first installed at ${lifeLabel(r.node, r.inc)}, ${rel(r.t)}`,
            ),
          });
        }
        marks.push({
          kind: "view",
          lane,
          t: r.t,
          detail: detail(`view ${s} installed at ${lifeLabel(r.node, r.inc)}\n${rel(r.t)}`),
          hot: false,
        });
        break;
      }
      case "leader":
        if (r.leader !== null && !seenEpochs.has(`t${r.term}`)) {
          seenEpochs.add(`t${r.term}`);
          epochs.push({
            kind: "leader",
            t: r.t,
            label: `term ${r.term}: node ${r.leader}`,
            detail: detail(
              `term ${r.term}: node ${r.leader} elected leader (first seen at ${lifeLabel(r.node, r.inc)}, ${rel(r.t)})`,
            ),
          });
        }
        marks.push({
          kind: "leader",
          lane,
          t: r.t,
          detail: detail(
            `term ${r.term}: ${r.leader === null ? "no leader" : `leader node ${r.leader}`}\nas seen by ${lifeLabel(r.node, r.inc)}, ${rel(r.t)}`,
          ),
          hot: false,
        });
        break;
      case "dgram": {
        datagrams++;
        if (r.retx) retransmissions++;
        const k = `${r.node}>${r.to}:${r.hash}`;
        const d: Dg = { lane, t: r.t, to: r.to, rec: r };
        if (!r.drop) push(dgrams, k, d);
        const what = `datagram ${r.node} → ${r.to}, ${r.bytes} B${r.retx ? ", retransmission" : ""}\ncarries ${showRefs(r.msgs)}\n${rel(r.t)}`;
        const sender = r.msgs[0]?.from ?? r.node;
        if (r.drop) {
          drops.push({
            from: lane,
            to: laneAt(r.to, r.t),
            t: r.t,
            sender,
            control: r.msgs.length === 0,
            detail: detail(`DROPPED (${r.drop}): ${what}`),
          });
        } else if (r.retx) {
          marks.push({ kind: "retx", lane, t: r.t, sender, detail: detail(what), hot: false });
        }
        break;
      }
      case "recv": {
        for (const m of r.msgs) {
          const s = findSend(m.from, m.seq, r.t);
          if (!s) continue;
          const k = `${lane}|${msgKey(s)}`;
          if (!receipts.has(k)) receipts.set(k, r.t);
        }
        // Equal bytes sent again (heartbeats, acks): the latest copy sent before the receipt.
        const list = dgrams.get(`${r.from}>${r.node}:${r.hash}`) ?? [];
        let d: Dg | undefined;
        for (let j = list.length - 1; j >= 0 && !d; j--) {
          const x = list[j] as Dg;
          if (x.t <= r.t + SKEW_MS) d = x;
        }
        if (d?.rec.retx) {
          arrows.push({
            kind: "retx",
            from: d.lane,
            to: lane,
            t: d.t,
            t2: r.t,
            sender: d.rec.msgs[0]?.from ?? d.rec.node,
            detail: detail(
              `retransmission ${d.rec.node} → ${r.node}, ${r.bytes} B\ncarries ${showRefs(r.msgs)}\nsent ${rel(d.t)}, received ${rel(r.t)}`,
            ),
            hot: false,
          });
        }
        break;
      }
      default:
        break;
    }
  }

  // Pass 2: deliveries (arrows and hold-back bars), lifecycle marks.
  const delivered = new Map<string, Set<number>>();
  const arrowsOf = new Map<string, Arrow[]>();
  let deliveries = 0;
  const viewAt = (lane: number, t: number): string => {
    const list = views.get(lane) ?? [];
    for (let j = list.length - 1; j >= 0; j--) {
      const v = list[j] as { t: number; s: string };
      if (v.t <= t) return v.s;
    }
    return "none yet";
  };
  for (const r of records) {
    const lane = laneOf.get(`${r.node}@${r.inc}`) as number;
    if (r.ev === "deliver") {
      deliveries++;
      const s = findSend(r.from, r.seq, r.t, r.text, r.fromInc);
      const parts = [
        `${s?.label ?? showMsg(r.from, r.seq, r.text)} from ${s ? lifeLabel(s.from, s.inc) : `node ${r.from} (send not in the trace)`}`,
        `delivered at ${lifeLabel(r.node, r.inc)}, ${rel(r.t)}${s ? ` (${(r.t - s.t).toFixed(3)} ms after the send)` : ""}`,
      ];
      const rt = s ? receipts.get(`${lane}|${msgKey(s)}`) : undefined;
      if (rt !== undefined)
        parts.push(`received ${rel(rt)}, held back ${(r.t - rt).toFixed(3)} ms`);
      const meta: string[] = [];
      if (r.order !== undefined) meta.push(`order #${r.order}`);
      if (r.vc !== undefined) meta.push(`vc [${r.vc.join(",")}]`);
      meta.push(`view ${viewAt(lane, r.t)}`);
      parts.push(meta.join(" · "));
      if (r.history) parts.push("by state transfer (the group's recent past, for a new member)");
      const di = detail(parts.join("\n"));
      if (rt !== undefined && r.t > rt) {
        holds.push({ lane, t: rt, t2: r.t, sender: r.from, detail: di });
      }
      if (!s) continue;
      const mk = msgKey(s);
      delivered.set(mk, (delivered.get(mk) ?? new Set()).add(lane));
      if (s.lane === lane) continue;
      const a: Arrow = {
        kind: r.history ? "history" : "msg",
        from: s.lane,
        to: lane,
        t: s.t,
        t2: r.t,
        sender: s.from,
        detail: di,
        hot: false,
      };
      arrows.push(a);
      push(arrowsOf, mk, a);
    }
  }
  const sendMark = new Map<Sent, Mark>();
  for (const s of sentList) {
    const got = delivered.get(msgKey(s))?.size ?? 0;
    const m: Mark = {
      kind: "send",
      lane: s.lane,
      t: s.t,
      sender: s.from,
      detail: detail(
        `send ${s.label} by ${lifeLabel(s.from, s.inc)}, ${rel(s.t)}\ndelivered by ${got} life(s)`,
      ),
      hot: false,
    };
    sendMark.set(s, m);
    marks.push(m);
  }
  lanes.forEach((l, i) => {
    const who = lifeLabel(l.node, l.inc);
    marks.push({
      kind: l.life > 1 ? "restart" : "start",
      lane: i,
      t: l.t0,
      detail: detail(
        `${l.life > 1 ? `restart: life ${l.life} of` : "start of"} ${who}, ${rel(l.t0)}${l.rejoin !== undefined ? `\nthe same process rejoined as a new member: ${l.rejoin}` : ""}`,
      ),
      hot: false,
    });
    if (l.end !== "open") {
      const why = {
        crash: "crashed",
        stop: "stopped cleanly",
        killed: "last event (the process ended without a clean stop)",
        rejoined: "ended: the process went on as a new member (rejoin)",
      }[l.end];
      marks.push({
        kind: l.end,
        lane: i,
        t: l.t1,
        detail: detail(`${who} ${why}, ${rel(l.t1)}`),
        hot: false,
      });
    }
  });

  const busy = range([
    ...sentList.map((s) => s.t),
    ...arrows.map((a) => a.t2),
    ...drops.filter((x) => !x.control).map((x) => x.t),
  ]);
  // Violations: highlight what they name; a named message a named life lacks is "missing",
  // marked where the messages' traffic ends (or the life's end, if sooner).
  const violations = opts.violations ?? [];
  for (const v of violations) {
    const named = sentList.filter((s) => mentions(v, s.label));
    const namedLanes = lanes
      .map((l, i) => ({ l, i }))
      .filter(({ l }) => mentions(v, lifeLabel(l.node, l.inc)))
      .map(({ i }) => i);
    for (const s of named) {
      const sm = sendMark.get(s);
      if (sm) sm.hot = true;
      for (const a of arrowsOf.get(msgKey(s)) ?? []) {
        if (namedLanes.length === 0 || namedLanes.includes(a.to)) a.hot = true;
      }
      for (const li of namedLanes) {
        if (li === s.lane || delivered.get(msgKey(s))?.has(li)) continue;
        const l = lanes[li] as Lane;
        marks.push({
          kind: "missing",
          lane: li,
          t: Math.max(l.t0, Math.min(l.t1, busy ? busy[1] : l.t1)),
          sender: s.from,
          detail: detail(`MISSING at ${lifeLabel(l.node, l.inc)}: ${s.label}\n${v}`),
          hot: true,
        });
      }
    }
  }

  let focus = busy ?? [t0, t1];
  // With a violation, open on what it names.
  const hotRange = range([
    ...arrows.filter((a) => a.hot).flatMap((a) => [a.t, a.t2]),
    ...marks.filter((m) => m.hot).map((m) => m.t),
  ]);
  if (hotRange) {
    const min = (focus[1] - focus[0]) / 10;
    const w = hotRange[1] - hotRange[0];
    focus = w >= min ? hotRange : [hotRange[0] - (min - w) / 2, hotRange[1] + (min - w) / 2];
  }
  return {
    title: opts.title ?? "rmchat run",
    t0,
    t1,
    focus,
    nodes,
    lanes,
    arrows,
    drops,
    holds,
    marks,
    epochs,
    details,
    violations,
    counts: {
      messages: sentList.length,
      deliveries,
      drops: drops.length,
      retransmissions,
      datagrams,
    },
  };
}
