import type { Incarnation, MsgSeq, NodeId } from "../core/types.js";
import type { HistoryEvent } from "../runtime/sim.js";

export type TraceEvent = HistoryEvent;

/** What a live node still buffers once the network has been quiet for a while. */
export interface NodeFinal {
  node: NodeId;
  heldBack: number;
  /** Unacknowledged fragments towards live peers. */
  unackedToLive: number;
  /** Out-of-order fragments received from live peers. */
  outOfOrderFromLive: number;
  /** Messages kept for relaying (fifo/causal): released once every member has them. */
  retained: number;
  /** The leader this node follows (undefined: none), its term, and the installed view. */
  leader: NodeId | undefined;
  term: number;
  view: { term: number; version: number; members: NodeId[] };
}

/** Everything the checkers look at: the history of one run and the final buffer state. */
export interface Trace {
  nodes: number;
  events: TraceEvent[];
  /** One entry per node live at the end (boundedness). */
  final: NodeFinal[];
  /** Instants at which two nodes led with a valid lease (sampled by the runner). */
  leaseOverlaps?: string[];
  /**
   * The state-transfer budget the nodes ran with. The checkers demand the complete group
   * history of every new life, so a run may send at most this many messages.
   */
  historyMessages?: number;
}

/**
 * One life of a node: from a start (first start, late start, restart) or a rejoin (a new
 * member without a crash) to its crash, its next rejoin, or the end of the history.
 */
export interface Life {
  key: string;
  node: NodeId;
  inc: Incarnation;
  /** Index of the life among all lives (dense, for vector clocks). */
  idx: number;
  /** The node's first life. */
  first: boolean;
  /** How it began. */
  via: "start" | "rejoin";
  /** Index of the event that began it. */
  begin: number;
  /** Still up at the end of the history. */
  live: boolean;
}

/** A message that left its sender (a `send` event), identified by sender, seq and text. */
export interface Msg {
  id: string;
  from: NodeId;
  inc: Incarnation;
  seq: MsgSeq;
  text: string;
  /** Index of the send event in the history. */
  index: number;
  t: number;
  /** Position among the sends of the same life (0, 1, 2, …). */
  pos: number;
  life: Life;
}

export type Delivery = Extract<HistoryEvent, { kind: "deliver" }>;

/** One delivery of a life: the event, its index in the history, its message id. */
export interface LifeDelivery {
  d: Delivery;
  index: number;
  id: string;
}

/** A view as one life installed it, with the non-history messages it delivered in it. */
export interface InstalledView {
  id: string;
  members: NodeId[];
  incs: number[];
  /** Index of the view event. */
  index: number;
  /** Message ids delivered (not as history) while this was the life's view. */
  delivered: string[];
}

/** Facts derived from a trace once, shared by the checkers. */
export interface Analysis {
  lives: Map<string, Life>;
  lifeList: Life[];
  msgs: Map<string, Msg>;
  sendsByLife: Map<string, Msg[]>;
  /** Two sends that cannot be told apart (same sender, seq and text): the history is ambiguous. */
  ambiguous: string | null;
  /** Deliveries per receiving life, in history order, with their event index and message id. */
  deliveries: Map<string, LifeDelivery[]>;
  /** Per event index: the message id of a send or delivery event (made once per event). */
  ids: Array<string | undefined>;
  /** Per event index: the life that made a send or delivery event, when it was running. */
  lifeAt: Array<Life | undefined>;
  /** Deliveries by no running life (the node down, or the incarnation not its current one). */
  orphans: Array<{ d: Delivery; index: number }>;
  /** Successful send() calls per life (the message may leave later, or never). */
  accepts: Map<string, Array<{ text: string; index: number; t: number }>>;
  /** Views each life installed, in order (repeats of the same view folded). */
  views: Map<string, InstalledView[]>;
  /**
   * Non-history deliveries made while the life had no installed view containing it
   * (its node with its incarnation): the first one per life.
   */
  outsideView: Array<{ life: Life; d: Delivery; view: InstalledView | undefined }>;
}

export const lifeKey = (node: NodeId, inc: Incarnation): string => `${node}@${inc}`;
export const msgId = (from: NodeId, seq: MsgSeq, text: string): string => `${from}#${seq}:${text}`;
export const deliveryId = (d: Delivery): string => msgId(d.from, d.seq, d.text);

/** Short human form of a message: `1#4 "n1.17…"`. */
export function showMsg(from: NodeId, seq: MsgSeq, text: string): string {
  const t = text.length > 12 ? `${text.slice(0, 12)}…(${text.length})` : text;
  return `${from}#${seq} "${t}"`;
}

export const showLife = (l: Life): string => `node ${l.node} (inc ${l.inc})`;

/** Whether a view contains the life: its node is a member with the life's incarnation. */
export function viewHas(v: InstalledView, l: Life): boolean {
  const i = v.members.indexOf(l.node);
  return i >= 0 && v.incs[i] === l.inc;
}

const cache = new WeakMap<Trace, Analysis>();
/** (sender, seq) as one number: sender * SEQ_SPAN + seq (seqs stay far below 2^32). */
const SEQ_SPAN = 0x100000000;

export function analyse(tr: Trace): Analysis {
  const hit = cache.get(tr);
  if (hit) return hit;
  const lives = new Map<string, Life>();
  const lifeList: Life[] = [];
  const current = new Map<NodeId, Life>();
  const everUp = new Set<NodeId>();
  const msgs = new Map<string, Msg>();
  const sendsByLife = new Map<string, Msg[]>();
  const deliveries = new Map<string, LifeDelivery[]>();
  const ids: Array<string | undefined> = new Array(tr.events.length);
  const lifeAt: Array<Life | undefined> = new Array(tr.events.length);
  const orphans: Analysis["orphans"] = [];
  const accepts: Analysis["accepts"] = new Map();
  const views = new Map<string, InstalledView[]>();
  const outsideView: Analysis["outsideView"] = [];
  const outside = new Set<Life>();
  // Sends by (sender, seq): a delivery finds its message's id here (the same string object)
  // instead of building and hashing a new one. Equal content either way: the ids are the same.
  const bySeq = new Map<number, Msg[]>();
  const idOf = (d: Delivery): string => {
    const list = bySeq.get(d.from * SEQ_SPAN + d.seq);
    if (list) for (const m of list) if (m.text === d.text) return m.id;
    return deliveryId(d);
  };
  let ambiguous: string | null = null;
  const begin = (node: NodeId, inc: Incarnation, via: Life["via"], index: number): void => {
    const prev = current.get(node);
    if (prev) prev.live = false;
    const key = lifeKey(node, inc);
    const life: Life = {
      key,
      node,
      inc,
      idx: lifeList.length,
      first: !everUp.has(node),
      via,
      begin: index,
      live: true,
    };
    everUp.add(node);
    current.set(node, life);
    lives.set(key, life);
    lifeList.push(life);
    sendsByLife.set(key, []);
    deliveries.set(key, []);
    accepts.set(key, []);
    views.set(key, []);
  };
  const running = (node: NodeId, inc: Incarnation): Life | undefined => {
    const l = current.get(node);
    return l && l.inc === inc ? l : undefined;
  };
  tr.events.forEach((e, index) => {
    switch (e.kind) {
      case "start":
        begin(e.node, e.inc, "start", index);
        return;
      case "rejoin":
        begin(e.node, e.inc, "rejoin", index);
        return;
      case "crash": {
        const l = current.get(e.node);
        if (l) l.live = false;
        current.delete(e.node);
        return;
      }
      case "accept": {
        const l = running(e.node, e.inc);
        if (l) accepts.get(l.key)?.push({ text: e.text, index, t: e.t });
        return;
      }
      case "send": {
        const life = running(e.node, e.inc);
        if (!life) return;
        const list = sendsByLife.get(life.key) as Msg[];
        const id = msgId(e.node, e.seq, e.text);
        ids[index] = id;
        lifeAt[index] = life;
        if (msgs.has(id) && ambiguous === null) {
          ambiguous = `two sends of ${showMsg(e.node, e.seq, e.text)}: the history cannot tell them apart`;
        }
        const m: Msg = {
          id,
          from: e.node,
          inc: e.inc,
          seq: e.seq,
          text: e.text,
          index,
          t: e.t,
          pos: list.length,
          life,
        };
        list.push(m);
        msgs.set(id, m);
        const k = e.node * SEQ_SPAN + e.seq;
        const same = bySeq.get(k);
        if (same) same.push(m);
        else bySeq.set(k, [m]);
        return;
      }
      case "view": {
        const life = current.get(e.node);
        if (!life) return;
        const list = views.get(life.key) as InstalledView[];
        const id = `${e.term}.${e.version}`;
        if (list[list.length - 1]?.id === id) return;
        list.push({ id, members: e.members, incs: e.incs, index, delivered: [] });
        return;
      }
      case "deliver": {
        const life = running(e.node, e.inc);
        if (!life) {
          orphans.push({ d: e, index });
          return;
        }
        const id = idOf(e);
        ids[index] = id;
        lifeAt[index] = life;
        deliveries.get(life.key)?.push({ d: e, index, id });
        if (e.history) return;
        const list = views.get(life.key) as InstalledView[];
        const v = list[list.length - 1];
        if (v && viewHas(v, life)) v.delivered.push(id);
        else if (!outside.has(life)) {
          outside.add(life);
          outsideView.push({ life, d: e, view: v });
        }
        return;
      }
      case "refused":
      case "leader":
        return;
    }
  });
  const a: Analysis = {
    lives,
    lifeList,
    msgs,
    sendsByLife,
    ambiguous,
    deliveries,
    ids,
    lifeAt,
    orphans,
    accepts,
    views,
    outsideView,
  };
  cache.set(tr, a);
  return a;
}
