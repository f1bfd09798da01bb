import type { Incarnation, MsgSeq, NodeId } from "../core/types.js";
import type { HistoryEvent } from "../runtime/sim.js";

/**
 * Recorded by the fuzz runner (not by the simulator): node `node`, in its life `inc`, learned
 * that `peer` runs incarnation `peerInc` (the node's "peer up / restarted" event).
 */
export interface LearnEvent {
  kind: "learn";
  t: number;
  node: NodeId;
  inc: Incarnation;
  peer: NodeId;
  peerInc: Incarnation;
}

export type TraceEvent = HistoryEvent | LearnEvent;

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
}

/** One life (incarnation) of a node, from its start event to its crash or the end. */
export interface Life {
  key: string;
  node: NodeId;
  inc: Incarnation;
  /** Index of the life among all lives (dense, for vector clocks). */
  idx: number;
  /** The node's first life: it has never been up before, so everything sent is due to it. */
  first: boolean;
  /** Still up at the end of the history. */
  live: boolean;
}

/** A successful send, identified by sender, seq and text. */
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

/** Facts derived from a trace once, shared by the checkers. */
export interface Analysis {
  lives: Map<string, Life>;
  lifeList: Life[];
  msgs: Map<string, Msg>;
  sendsByLife: Map<string, Msg[]>;
  /** Two sends that cannot be told apart (same sender, seq and text): the history is ambiguous. */
  ambiguous: string | null;
  /** `${senderLife}>${receiverLife}` → index of the event where the sender learned that life. */
  learned: Map<string, number>;
  /** Deliveries per receiving life, in history order, with their event index. */
  deliveries: Map<string, Array<{ d: Delivery; index: number }>>;
}

export const lifeKey = (node: NodeId, inc: Incarnation): string => `${node}@${inc}`;
export const msgId = (from: NodeId, seq: MsgSeq, text: string): string => `${from}#${seq}:${text}`;

/** Short human form of a message: `1#4 "n1.17…"`. */
export function showMsg(from: NodeId, seq: MsgSeq, text: string): string {
  const t = text.length > 12 ? `${text.slice(0, 12)}…(${text.length})` : text;
  return `${from}#${seq} "${t}"`;
}

export const showLife = (l: Life): string => `node ${l.node} (inc ${l.inc})`;

const cache = new WeakMap<Trace, Analysis>();

export function analyse(tr: Trace): Analysis {
  const hit = cache.get(tr);
  if (hit) return hit;
  const lives = new Map<string, Life>();
  const lifeList: Life[] = [];
  const current = new Map<NodeId, Life>();
  const everUp = new Set<NodeId>();
  const msgs = new Map<string, Msg>();
  const sendsByLife = new Map<string, Msg[]>();
  const learned = new Map<string, number>();
  const deliveries = new Map<string, Array<{ d: Delivery; index: number }>>();
  let ambiguous: string | null = null;
  tr.events.forEach((e, index) => {
    switch (e.kind) {
      case "rejoin":
      case "start": {
        const key = lifeKey(e.node, e.inc);
        const life: Life = {
          key,
          node: e.node,
          inc: e.inc,
          idx: lifeList.length,
          first: e.kind === "start" && !everUp.has(e.node),
          live: true,
        };
        everUp.add(e.node);
        const prev = current.get(e.node);
        if (prev) prev.live = false;
        current.set(e.node, life);
        lives.set(key, life);
        lifeList.push(life);
        return;
      }
      case "crash": {
        const l = current.get(e.node);
        if (l) l.live = false;
        current.delete(e.node);
        return;
      }
      case "send": {
        const life = lives.get(lifeKey(e.node, e.inc));
        if (!life) return;
        const list = sendsByLife.get(life.key) ?? [];
        sendsByLife.set(life.key, list);
        const id = msgId(e.node, e.seq, e.text);
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
        return;
      }
      case "learn": {
        const k = `${lifeKey(e.node, e.inc)}>${lifeKey(e.peer, e.peerInc)}`;
        if (!learned.has(k)) learned.set(k, index);
        return;
      }
      case "deliver": {
        const key = lifeKey(e.node, e.inc);
        const list = deliveries.get(key) ?? [];
        deliveries.set(key, list);
        list.push({ d: e, index });
        return;
      }
      case "refused":
      case "leader":
      case "view":
        return;
    }
  });
  const a: Analysis = { lives, lifeList, msgs, sendsByLife, ambiguous, learned, deliveries };
  cache.set(tr, a);
  return a;
}

/**
 * Whether life `r` is owed message `m`. A node's first life is owed everything (its peers
 * queue for it until it shows up). A restarted life starts empty and is owed only what a
 * sender sent after learning that life's incarnation: what peers had queued for the old
 * life is discarded on purpose, so earlier messages may legitimately never reach it.
 */
export function owed(a: Analysis, m: Msg, r: Life): boolean {
  if (r.first || m.life === r) return true;
  const at = a.learned.get(`${m.life.key}>${r.key}`);
  return at !== undefined && at < m.index;
}
