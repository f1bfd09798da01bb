import { fileURLToPath } from "node:url";
import { describe } from "vitest";
import type { HistoryMsg } from "../../src/core/app-message.js";
import { parseViewText } from "../../src/core/app-message.js";
import type { LogCtrl } from "../../src/core/ctrl.js";
import { defaultMembership } from "../../src/core/membership/config.js";
import { nextView, type View } from "../../src/core/membership/view.js";
import type { Delivery } from "../../src/core/order/layer.js";
import type { AppendMsg, LogMsg, SentEntry } from "../../src/core/order/log-messages.js";
import { TotalLog } from "../../src/core/order/total-log.js";
import { type HistoryEntry, HistoryRing } from "../../src/core/state/history.js";
import { type Cmd, datadriven } from "../helpers/datadriven.js";

/**
 * A cluster of TotalLogs behind fake contexts. Sends go to a queue that the script delivers
 * (`deliver`, `stabilize`) or drops; each node records what it delivered, installed or asked.
 * The election is scripted (`campaign`); a node follows a leader it hears from in an append.
 */

interface Msg {
  from: number;
  fromInc: number;
  to: number;
  msg: LogMsg | HistoryMsg | LogCtrl;
}

class FakeNode {
  term = 0;
  leader: number | undefined;
  lead = false;
  log: TotalLog;
  readonly ring: HistoryRing;
  /** What happened since last printed. */
  events: string[] = [];
  view = "none";
  halted = false;
  /** Coalesced control notes waiting for the next drain, per destination (a newer one replaces). */
  readonly notes = new Map<number, LogCtrl>();
  /** Deliveries of the current event, handed on before a view installs (as TotalMode does). */
  private readonly out: Delivery[] = [];

  constructor(
    readonly id: number,
    public inc: number,
  ) {
    this.ring = new HistoryRing(env.history);
    this.log = this.newLog();
  }

  private newLog(): TotalLog {
    const cfg = { ...defaultMembership(env.n), quorum: env.quorum };
    return new TotalLog({
      self: this.id,
      hostCount: env.n,
      incarnation: this.inc,
      cfg,
      term: () => this.term,
      isLeader: () => this.lead,
      leader: () => this.leader,
      retainLimit: env.retain,
      historyUpTo: (upTo) => this.ring.entries((e) => (e.order ?? 0) <= upTo),
      installView: (v) => {
        this.flushOut();
        this.view = viewStr(v);
        this.events.push(`install ${this.view}`);
      },
      deliverHistory: (entries) => {
        for (const e of entries) this.ring.push(e);
        this.events.push(
          `history ${entries.length === 0 ? "none" : entries.map(histStr).join(" ")}`,
        );
      },
      rejoin: (reason) => {
        this.halted = true;
        this.events.push(`rejoin: ${reason}`);
      },
      unsafeCommit: env.unsafeCommit,
      targetView: (last) => target(this, last),
      historyMessages: env.history,
      batchBytes: env.batch,
      send: (to, msg) => {
        env.queue.push({ from: this.id, fromInc: this.inc, to, msg });
        env.sent.push(`${this.id}->${to} ${msgStr(msg)}`);
      },
      note: (to, c) => {
        this.notes.set(to, c);
      },
      now: () => env.time,
      repairAfter: () => env.repairMs,
      multicast: (targets, msg) => {
        for (const to of targets) env.queue.push({ from: this.id, fromInc: this.inc, to, msg });
        env.sent.push(`${this.id}->${targets.join(",")} ${msgStr(msg)}`);
      },
      observeTerm: (t) => {
        if (t > this.term) {
          this.term = t;
          this.leader = undefined;
          this.lead = false;
          this.events.push(`term ${t}: step down`);
        }
      },
      observeLeader: (from, t) => {
        if (this.leader !== from || this.term !== t)
          this.events.push(`follow ${from} in term ${t}`);
        this.term = t;
        this.leader = from;
        this.lead = false;
      },
    });
  }

  /** What TotalMode.advance does after every event: sync, propose the target view, sync. */
  advance(): void {
    this.log.sync(this.out);
    if (this.lead) {
      const t = target(this, this.log.lastView);
      if (t) this.log.proposeView(t.members, t.incs);
      this.log.sync(this.out);
    }
    this.flushOut();
  }

  onAppend(from: number, m: AppendMsg): void {
    this.log.onAppend(from, m, this.out);
    this.flushOut();
  }

  flushOut(): void {
    for (const d of this.out) {
      this.ring.push({ from: d.from, inc: d.inc ?? 0, seq: d.seq, text: d.text, order: d.order });
      this.events.push(`deliver ${d.from}/${d.inc}#${d.seq} ${d.text} @${d.order}`);
    }
    this.out.length = 0;
  }
}

const env = {
  n: 3,
  quorum: 2,
  history: 10,
  retain: 1000,
  batch: 1000,
  unsafeCommit: false,
  nodes: [] as FakeNode[],
  /** Nodes the leaders count as live (for the views they author). */
  live: new Set<number>(),
  /** Virtual time (ms): `wait` moves it. */
  time: 0,
  /** Leaders repair unanswered appends after this long (`cluster repair=`, default 100 ms). */
  repairMs: 100,
  queue: [] as Msg[],
  sent: [] as string[],
};

function target(n: FakeNode, last: View): View | undefined {
  return nextView(
    last,
    n.id,
    n.term,
    (p) => p === n.id || env.live.has(p),
    (p) => env.nodes[p]?.inc ?? 0,
    env.n,
  );
}

const viewStr = (v: View): string =>
  `t${v.term}.${v.version}[${v.members.map((m, i) => `${m}/${v.incs[i]}`).join(",")}]`;

const histStr = (e: HistoryEntry): string => `${e.from}/${e.inc}#${e.seq}:${e.text}@${e.order}`;

function entryStr(e: SentEntry): string {
  if (e.from === -1) return `t${e.term} noop`;
  if (e.from === -2) {
    const v = parseViewText(e.text ?? "", env.n);
    return `t${e.term} view ${v ? viewStr(v) : "?"}`;
  }
  return `t${e.term} ${e.from}/${e.inc}#${e.seq}${e.text === null ? "" : `:${e.text}`}`;
}

function msgStr(m: LogMsg | HistoryMsg | LogCtrl): string {
  if ("t" in m)
    return m.t === "match"
      ? `match t${m.term} index=${m.index}`
      : `commit t${m.term} commit=${m.commit} compact=${m.compact}`;
  switch (m.kind) {
    case "submit":
      return `submit #${m.seq}:${m.text}`;
    case "append-resp":
      return `append-resp t${m.term} ${m.ok ? "ok" : "reject"} index=${m.index} req=${m.reqPrev}${m.missing > 0 ? ` missing=${m.missing}` : ""}`;
    case "history":
      return `history t${m.term} at=${m.version}${m.done ? " done" : ""} [${m.entries.map(histStr).join(" ")}]`;
    case "append": {
      const head = `append t${m.term} prev=${m.prevIndex}/${m.prevTerm} commit=${m.commit} compact=${m.compact}`;
      if (m.snap) {
        const o: string[] = [];
        for (let i = 0; i + 2 < m.snap.ordered.length; i += 3)
          o.push(`${m.snap.ordered[i]}/${m.snap.ordered[i + 1]}:${m.snap.ordered[i + 2]}`);
        return `${head} snapshot view=${viewStr(m.snap.view)} ordered=${o.join(",")}`;
      }
      let i = m.prevIndex;
      return `${head} [${m.entries.map((e) => `${++i}:${entryStr(e)}`).join(", ")}]`;
    }
  }
}

function node(id: number): FakeNode {
  const n = env.nodes[id];
  if (!n) throw new Error(`no node ${id}`);
  return n;
}

/** Sends made so far, then each node's events (prefixed with its id), in node order. */
function flush(indent = ""): string[] {
  const lines = env.sent.map((s) => indent + s);
  env.sent = [];
  for (const n of env.nodes) {
    for (const e of n.events) lines.push(`${indent}${n.id}: ${e}`);
    n.events = [];
  }
  return lines;
}

/**
 * A drain: every node's coalesced notes leave (one per destination however many were made
 * since the last drain), as unreliable control messages in the queue.
 */
function drainNotes(): void {
  for (const n of env.nodes) {
    for (const [to, c] of n.notes) {
      env.queue.push({ from: n.id, fromInc: n.inc, to, msg: c });
      env.sent.push(`${n.id}->${to} ${msgStr(c)}`);
    }
    n.notes.clear();
  }
}

function dispatch(m: Msg): void {
  const n = node(m.to);
  if (n.halted) return;
  if ("t" in m.msg) {
    if (m.msg.t === "match") n.log.onMatchNote(m.from, m.msg.term, m.msg.index);
    else n.log.onCommitNote(m.from, m.msg.term, m.msg.commit, m.msg.compact);
    if (!n.halted) n.advance();
    return;
  }
  switch (m.msg.kind) {
    case "submit":
      n.log.onSubmit(m.from, m.fromInc, m.msg);
      break;
    case "append":
      n.onAppend(m.from, m.msg);
      break;
    case "append-resp":
      n.log.onAppendResp(m.from, m.msg);
      break;
    case "history":
      n.log.onHistory(m.from, m.msg);
      break;
  }
  if (!n.halted) n.advance();
}

/**
 * Deliver what is queued now (matching from/to; with first=k only the first k of them), in
 * order; report each with its effects.
 * `isolate=` nodes are partitioned away: messages to or from them wait (the channels are
 * reliable: they arrive once the partition heals). `drop` loses messages (a crash).
 */
function deliverRound(c: Cmd, verbose: boolean): { lines: string[]; delivered: number } {
  const from = c.has("from") ? c.num("from") : undefined;
  const to = c.has("to") ? c.num("to") : undefined;
  const cut = new Set(c.nums("isolate", []));
  // first=k: only the first k matching messages (the rest wait, in order).
  let left = c.has("first") ? c.num("first") : Number.POSITIVE_INFINITY;
  const now = env.queue;
  env.queue = [];
  const lines: string[] = [];
  let delivered = 0;
  for (const m of now) {
    if (cut.has(m.from) || cut.has(m.to)) {
      env.queue.push(m);
      continue;
    }
    if ((from !== undefined && m.from !== from) || (to !== undefined && m.to !== to) || left <= 0) {
      env.queue.push(m);
      continue;
    }
    left--;
    if (verbose) lines.push(`${m.from}->${m.to} ${msgStr(m.msg)}`);
    delivered++;
    dispatch(m);
    if (verbose) lines.push(...flush("  "));
    else {
      env.sent = [];
      lines.push(...flush());
    }
  }
  // The round is one burst: the notes it produced leave once, coalesced.
  drainNotes();
  if (verbose && env.sent.length > 0) lines.push(...flush("notes: "));
  else env.sent = [];
  return { lines, delivered };
}

function status(): string {
  return env.nodes
    .map((n) => {
      const l = n.log;
      const role = n.halted ? "halted" : n.lead ? "leader" : `follower(${n.leader ?? "-"})`;
      return (
        `${n.id}/${n.inc} ${role} term=${n.term} last=${l.lastIndex}/${l.lastTerm} commit=${l.commit}` +
        ` stored=${l.size} view=${n.view} pending=${l.pendingCount}`
      );
    })
    .join("\n");
}

function handle(c: Cmd): string {
  switch (c.name) {
    case "cluster": {
      env.n = c.num("n", 3);
      env.quorum = c.num("quorum", Math.floor(env.n / 2) + 1);
      env.history = c.num("history", 10);
      env.retain = c.num("retain", 1000);
      env.batch = c.num("batch", 1000);
      env.unsafeCommit = c.bool("unsafeCommit");
      env.repairMs = c.num("repair", 100);
      env.queue = [];
      env.sent = [];
      env.nodes = [];
      env.time = 0;
      for (let i = 0; i < env.n; i++) env.nodes.push(new FakeNode(i, 1));
      env.live = new Set(
        c.nums(
          "live",
          env.nodes.map((n) => n.id),
        ),
      );
      return status();
    }
    case "live":
      env.live = new Set(c.nums("ids"));
      return "ok";
    case "campaign": {
      // The election is not under test here: node `id` simply wins `term`.
      const n = node(c.num("id"));
      n.term = c.num("term");
      n.leader = n.id;
      n.lead = true;
      n.advance();
      drainNotes();
      return flush().join("\n");
    }
    case "own": {
      const n = node(c.num("id"));
      n.log.own(c.num("seq"), c.str("text"));
      n.advance();
      drainNotes();
      return flush().join("\n");
    }
    case "tick": {
      // Any event: the node runs its duties (resubmits, replicates).
      for (const id of c.nums("ids")) node(id).advance();
      drainNotes();
      return flush().join("\n");
    }
    case "deliver": {
      const { lines } = deliverRound(c, true);
      return lines.length === 0 ? "nothing to deliver" : lines.join("\n");
    }
    case "stabilize": {
      // Deliver until nothing is left; print only what nodes did (not the messages), or with
      // summary=true how many deliveries each node made and its other events.
      const lines: string[] = [];
      for (let round = 0; ; round++) {
        if (round > 1000) throw new Error("no quiescence after 1000 rounds");
        const got = deliverRound(c, false);
        lines.push(...got.lines);
        if (got.delivered === 0) break;
      }
      if (env.queue.length > 0) lines.push(`${env.queue.length} messages wait`);
      if (c.bool("summary")) {
        const counts = new Map<string, number>();
        const other: string[] = [];
        for (const l of lines) {
          const m = /^(\d+): deliver /.exec(l);
          if (m) counts.set(m[1] as string, (counts.get(m[1] as string) ?? 0) + 1);
          else other.push(l);
        }
        return [...other, ...[...counts].map(([id, k]) => `${id}: ${k} deliveries`)].join("\n");
      }
      return lines.length === 0 ? "quiet" : lines.join("\n");
    }
    case "burst": {
      // Own messages seq from..to, text m<seq>; what they sent is not printed.
      const n = node(c.num("id"));
      for (const seq of c.nums("seq")) {
        n.log.own(seq, `m${seq}`);
        n.advance();
      }
      drainNotes();
      env.sent = [];
      return `${c.nums("seq").length} messages`;
    }
    case "drop": {
      const from = c.has("from") ? c.num("from") : undefined;
      const to = c.has("to") ? c.num("to") : undefined;
      const kept: Msg[] = [];
      const lines: string[] = [];
      for (const m of env.queue) {
        if ((from === undefined || m.from === from) && (to === undefined || m.to === to))
          lines.push(`dropped ${m.from}->${m.to} ${msgStr(m.msg)}`);
        else kept.push(m);
      }
      env.queue = kept;
      return lines.length === 0 ? "nothing dropped" : lines.join("\n");
    }
    case "restart": {
      // A new life: nothing of the old one survives; channels to it start over.
      const id = c.num("id");
      const inc = c.num("inc");
      env.queue = env.queue.filter((m) => m.from !== id && m.to !== id);
      env.nodes[id] = new FakeNode(id, inc);
      for (const n of env.nodes) if (n.id !== id) n.log.peerRestarted(id);
      return status();
    }
    case "startover": {
      // The node starts over as a new life (what a node does when its log asks to rejoin, or
      // a peer tells it to: TotalMode.reset): the new life's log keeps what the old one stored,
      // unless that conflicts with the leader's delivered past. Channels to it start over.
      const id = c.num("id");
      const old = node(id);
      env.queue = env.queue.filter((m) => m.from !== id && m.to !== id);
      const n = new FakeNode(id, c.num("inc"));
      n.term = old.term;
      const kept = n.log.adopt(old.log, old.ring.entries());
      env.nodes[id] = n;
      for (const p of env.nodes) if (p.id !== id) p.log.peerRestarted(id);
      return `${kept ? "kept" : "dropped"} its log\n${status()}`;
    }
    case "wait": {
      // Time passes (ms), then the nodes run their duties (a heartbeat tick).
      env.time += c.num("ms");
      for (const n of env.nodes) if (!n.halted) n.advance();
      drainNotes();
      return flush().join("\n") || "nothing";
    }
    case "status":
      return status();
    default:
      throw new Error(`unknown command ${c.name}`);
  }
}

describe("TotalLog (testdata/total-log.txt)", () => {
  datadriven(fileURLToPath(new URL("testdata/total-log.txt", import.meta.url)), handle);
});
