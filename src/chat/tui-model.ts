import type { NodeEvent } from "../core/node.js";
import type { Delivery } from "../core/order/index.js";
import type { MsgSeq, NodeId } from "../core/types.js";

/** A chat message in the pane. Own messages also carry their protocol state. */
export interface ChatLine {
  kind: "msg";
  /** Wall clock (ms) when it was delivered, or sent while not delivered yet. */
  at: number;
  from: NodeId;
  seq: MsgSeq;
  /** As received: made inert only when drawn. */
  text: string;
  own: boolean;
  /** Delivered by this node (always true for others' messages). */
  delivered: boolean;
  /** Own messages: how many peers acknowledged it. */
  acks: number;
  order?: number | undefined;
  vc?: number[] | undefined;
  /** State transfer: the group's recent past, delivered before this node's first view. */
  history?: boolean;
}

export type SysLevel = "info" | "warn" | "error" | "output";

/** A line from the program itself: an event, a log record, or the output of a command. */
export interface SysLine {
  kind: "sys";
  at: number;
  level: SysLevel;
  text: string;
}

export type Entry = ChatLine | SysLine;

/**
 * The message pane's content, bounded. The pane shows delivery order: an own message
 * appears when sent, marked "sent", and moves to its place in the delivery order when
 * this node delivers it (in total order that waits for the sequencer).
 */
export class ChatLog {
  readonly entries: Entry[] = [];
  /** Entries dropped from the front so far (limit, /clear): entries[i] is number first + i. */
  first = 0;
  /** Own messages whose state can still change. */
  private readonly open = new Map<MsgSeq, ChatLine>();
  /** Bumped on every change: the view redraws the pane only when it moved. */
  version = 0;
  /** Between the "history" separator and the first live delivery. */
  private inHistory = false;

  constructor(
    readonly self: NodeId,
    readonly peers: number,
    readonly limit = 5000,
  ) {}

  private push(e: Entry): void {
    this.entries.push(e);
    if (this.entries.length > this.limit) {
      const gone = this.entries.splice(0, this.entries.length - this.limit);
      this.first += gone.length;
      for (const g of gone) if (g.kind === "msg" && g.own) this.open.delete(g.seq);
    }
    this.version++;
  }

  sent(seq: MsgSeq, text: string, at: number): void {
    const line: ChatLine = {
      kind: "msg",
      at,
      from: this.self,
      seq,
      text,
      own: true,
      delivered: false,
      acks: 0,
    };
    this.open.set(seq, line);
    this.push(line);
  }

  deliver(d: Delivery, at: number, history = false): void {
    if (history !== this.inHistory) {
      this.inHistory = history;
      this.system(
        "info",
        history ? "── history: what the group said before we joined ──" : "── end of history ──",
        at,
      );
    }
    const mine = !history && d.from === this.self ? this.open.get(d.seq) : undefined;
    if (mine) {
      mine.delivered = true;
      mine.order = d.order;
      mine.vc = d.vc;
      mine.at = at;
      const i = this.entries.lastIndexOf(mine);
      if (i !== this.entries.length - 1) {
        if (i >= 0) this.entries.splice(i, 1);
        this.entries.push(mine);
      }
      this.settle(mine);
      this.version++;
      return;
    }
    this.push({
      kind: "msg",
      at,
      from: d.from,
      seq: d.seq,
      text: d.text,
      own: !history && d.from === this.self,
      delivered: true,
      acks: 0,
      order: d.order,
      vc: d.vc,
      ...(history ? { history: true } : {}),
    });
  }

  acked(seq: MsgSeq, by: number): void {
    const mine = this.open.get(seq);
    if (!mine) return;
    mine.acks = Math.max(mine.acks, by);
    this.settle(mine);
    this.version++;
  }

  private settle(line: ChatLine): void {
    if (line.delivered && line.acks >= this.peers) this.open.delete(line.seq);
  }

  system(level: SysLevel, text: string, at: number): void {
    this.push({ kind: "sys", at, level, text });
  }

  clear(): void {
    this.first += this.entries.length;
    this.entries.length = 0;
    this.version++;
  }
}

/** What a node event changes in the pane. */
export function applyEvent(log: ChatLog, ev: NodeEvent, now: number): void {
  switch (ev.type) {
    case "deliver":
      log.deliver(ev, now, ev.history === true);
      break;
    case "acked":
      log.acked(ev.seq, ev.by);
      break;
    case "peer":
      log.system(
        "info",
        ev.state === "up"
          ? `node ${ev.peer} is up (incarnation ${ev.incarnation})`
          : `node ${ev.peer} restarted (incarnation ${ev.incarnation}): what it had not acknowledged from its old life is gone`,
        now,
      );
      break;
    case "notice":
      log.system(ev.level, ev.msg, now);
      break;
  }
}

/**
 * Which entries the pane shows. Only those reach blessed, so a redraw costs the same with
 * 50 or 5000 lines of scrollback. Following (the default), the newest entry is at the
 * bottom; scrolled back, the view stays on the same entries while new ones arrive.
 */
export class Scrollback {
  /** Number (ChatLog.first-based) of the entry just below the view; undefined: following. */
  private anchor: number | undefined;
  /** Entries in the last window (the top one may be cut off). */
  private shown = 1;
  /** The last window began at the oldest entry and did not fill the pane. */
  private atTop = false;

  get following(): boolean {
    return this.anchor === undefined;
  }

  /** Newer entries below the view. */
  below(log: ChatLog): number {
    return this.anchor === undefined ? 0 : log.first + log.entries.length - this.end(log);
  }

  private end(log: ChatLog): number {
    const n = log.entries.length;
    if (this.anchor === undefined) return log.first + n;
    return Math.min(log.first + n, Math.max(log.first + Math.min(1, n), this.anchor));
  }

  /**
   * The entries to draw, oldest first: back from the bottom of the view until they fill
   * `rows` by `height` (an entry's lines at the current width; a lower bound is enough).
   */
  window(log: ChatLog, rows: number, height: (e: Entry) => number): Entry[] {
    const end = this.end(log) - log.first;
    let i = end;
    let used = 0;
    while (i > 0 && used < rows) {
      i--;
      used += height(log.entries[i] as Entry);
    }
    this.shown = Math.max(1, end - i);
    this.atTop = i === 0 && used <= rows;
    return log.entries.slice(i, end);
  }

  /** Move by `n` entries (negative: back in time). Reaching the newest follows again. */
  scroll(log: ChatLog, n: number): void {
    if (n < 0 && this.atTop) return;
    const next = this.end(log) + n;
    this.anchor = next >= log.first + log.entries.length ? undefined : next;
  }

  /** PgUp/PgDn: a window's worth of entries, keeping one in view. */
  page(log: ChatLog, dir: -1 | 1): void {
    this.scroll(log, dir * Math.max(1, this.shown - 1));
  }

  follow(): void {
    this.anchor = undefined;
  }
}
