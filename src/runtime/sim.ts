import {
  defaultMembership,
  type MembershipConfig,
  scaleForDelay,
} from "../core/membership/config.js";
import type { HardState } from "../core/membership/election.js";
import { type NodeEvent, type OutDatagram, RmNode, type UnsafeKnobs } from "../core/node.js";
import type { OrderFactory } from "../core/order/index.js";
import {
  DEFAULT_LIMITS,
  type MsgSeq,
  type NodeId,
  type Ordering,
  type ProtocolLimits,
} from "../core/types.js";
import { decodeFrame } from "../core/wire.js";
import type { TraceRecorder } from "../trace/recorder.js";
import { FaultInjector, type FaultSettings } from "./faults.js";
import { EventQueue } from "./heap.js";
import { type Rng, seededRng } from "./rng.js";
import { type Aead, Trust } from "./trust.js";

/** What the simulated network does to one datagram on one link, on top of the node's own fault layer. */
export interface LinkFaults {
  drop: number;
  duplicate: number;
  delayMinMs: number;
  delayMaxMs: number;
}

export const PERFECT_LINK: LinkFaults = {
  drop: 0,
  duplicate: 0,
  delayMinMs: 0.05,
  delayMaxMs: 0.2,
};

export interface SimOptions {
  seed: number;
  hosts: number;
  ordering: Ordering;
  limits?: Partial<ProtocolLimits>;
  /** The user-level fault layer every node applies to its own outgoing datagrams. */
  faults?: FaultSettings;
  /** Network faults per link (may change over time). */
  link?: (from: NodeId, to: NodeId, now: number) => LinkFaults;
  /** Nodes that are not started at time 0 (start them with `start`). */
  lateStart?: NodeId[];
  /** Failure detection and election timings. */
  membership?: Partial<MembershipConfig>;
  /** Order layer constructor for every node (default: the real one). */
  orderFactory?: OrderFactory;
  /** Records lives, sends, datagrams and node events for a space-time diagram. */
  tracer?: TraceRecorder;
  /** State transfer: recent messages a new life receives (NodeOptions.historyMessages). */
  historyMessages?: number;
  /** Deliberately broken protocol variants (negative controls for the fuzz suite only). */
  unsafe?: UnsafeKnobs;
  /**
   * The trust layer (envelope, cluster name, keyring), as the UDP shell runs it. Without it
   * the simulated wire carries bare frames. Epochs are the simulated incarnations and keys
   * are given, so a run stays reproducible from its seed.
   */
  trust?: SimTrust;
  /**
   * Count the data entries of the datagrams each node's fault layer drops
   * (`FaultInjector.droppedEntries`, as the UDP shell does). Default true; the fuzz runner,
   * which never reads the count, turns it off (it costs a frame decode per loss).
   */
  countDroppedEntries?: boolean;
}

export interface SimTrust {
  cluster?: string;
  /** Each node's keyring, primary first (empty: plain envelopes). */
  keys: (node: NodeId) => Uint8Array[];
  /** The cipher under the envelope (default AES-256-GCM; the fuzz runner uses SIM_AEAD). */
  aead?: Aead;
}

/**
 * The recorded history of a run. `accept`: the user's send() returned ok (the message may be
 * held while the node is not in a view); `send`: the message actually left (the node's
 * "sent" event), stamped with the life's incarnation at that moment; `refused`: send()
 * failed. `rejoin`: the process started over as a new member (incarnation `inc`) without a
 * crash. A delivery with `history` is state transfer; a view lists its members' incarnations.
 */
export type HistoryEvent =
  | { kind: "accept"; t: number; node: NodeId; inc: number; text: string }
  | { kind: "send"; t: number; node: NodeId; inc: number; seq: MsgSeq; text: string }
  | { kind: "refused"; t: number; node: NodeId; text: string; error: string }
  | {
      kind: "deliver";
      t: number;
      node: NodeId;
      inc: number;
      from: NodeId;
      /** The sender's incarnation as the protocol reports it (the checkers do not rely on it). */
      fromInc?: number;
      seq: MsgSeq;
      text: string;
      order?: number;
      vc?: number[];
      history?: true;
    }
  | { kind: "crash"; t: number; node: NodeId }
  | { kind: "start"; t: number; node: NodeId; inc: number }
  | { kind: "rejoin"; t: number; node: NodeId; inc: number; reason: string }
  | { kind: "leader"; t: number; node: NodeId; term: number; leader: NodeId | null }
  | {
      kind: "view";
      t: number;
      node: NodeId;
      term: number;
      version: number;
      members: NodeId[];
      incs: number[];
    };

/** Event kinds in the queue: a = destination node, b = source node (arrive) or timer token (wake). */
const ARRIVE = 0;
const WAKE = 1;
const ACTION = 2;
type EventRef = Uint8Array | (() => void);

interface Host {
  node: RmNode | undefined;
  faults: FaultInjector;
  wakeToken: number;
  wakeAt: number | undefined;
  /**
   * The queue slot of the node's armed timer (-1: none). A re-armed timer moves that one
   * event instead of leaving a stale one behind: same order, fewer events.
   */
  wakeSlot: number;
  incCounter: number;
  /** The incarnation of the running life, as the history knows it (start, then rejoins). */
  inc: number;
  /** What the node persisted (term and vote): survives crashes, like a disk. */
  hard: HardState | undefined;
  /** When the process is frozen (SIGSTOP) until; events wait for it. */
  frozenUntil: number;
  lastWake: number;
  sameWakes: number;
  /** This node's keyring (kept across restarts, like its config). */
  keys: Uint8Array[];
  /** The running life's trust layer (a restart starts a fresh one, as a new process does). */
  trust: Trust | undefined;
}

/**
 * The deterministic network: a virtual clock, a seeded RNG, per-link delay / drop /
 * duplication (which reorders), partitions, crashes, restarts and late starts. It drives
 * the very same RmNode the UDP runtime drives.
 */
export class Sim {
  now = 0;
  readonly history: HistoryEvent[] = [];
  readonly hosts: Host[] = [];
  readonly ordering: Ordering;
  private readonly queue = new EventQueue<EventRef>();
  /** Events handled so far (datagram arrivals, timer wakes and scheduled actions). */
  events = 0;
  /**
   * Steps that may have changed some node's state (a node handled an input, started or
   * crashed). Observers that only read nodes may cache what they read until it moves.
   */
  changes = 0;
  private readonly rng: Rng;
  private readonly limits: ProtocolLimits;
  private readonly membership: MembershipConfig;
  private readonly orderFactory: OrderFactory | undefined;
  private readonly tracer: TraceRecorder | undefined;
  private readonly historyMessages: number | undefined;
  private readonly unsafe: UnsafeKnobs | undefined;
  private readonly link: (from: NodeId, to: NodeId, now: number) => LinkFaults;
  /** Blocked directed links (partitions). */
  private readonly blocked = new Set<number>();
  /** Optional observer of every node event (tests, TUI-less demos). */
  onEvent: ((node: NodeId, ev: NodeEvent) => void) | undefined;
  datagrams = 0;
  /** Datagrams sent to each node (whether or not it runs). */
  readonly sentTo: number[] = [];
  /** Observer of every datagram put on the wire, as sent (tests capture and replay them). */
  tap: ((from: NodeId, to: NodeId, bytes: Uint8Array) => void) | undefined;
  private readonly trustOpts: SimTrust | undefined;
  private readonly countDroppedEntries: boolean;

  constructor(opts: SimOptions) {
    this.rng = seededRng(opts.seed);
    this.ordering = opts.ordering;
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.link = opts.link ?? (() => PERFECT_LINK);
    this.membership = scaleForDelay(
      { ...defaultMembership(opts.hosts), ...opts.membership },
      opts.faults?.delay ?? 0,
    );
    this.orderFactory = opts.orderFactory;
    this.tracer = opts.tracer;
    this.trustOpts = opts.trust;
    this.countDroppedEntries = opts.countDroppedEntries !== false;
    this.historyMessages = opts.historyMessages;
    this.unsafe = opts.unsafe;
    const late = new Set(opts.lateStart ?? []);
    for (let i = 0; i < opts.hosts; i++) this.sentTo.push(0);
    for (let i = 0; i < opts.hosts; i++) {
      const faults = new FaultInjector(
        opts.faults ?? { delay: 0, drop: 0 },
        seededRng(this.rngInt()),
      );
      this.hosts.push({
        node: undefined,
        faults,
        wakeToken: 0,
        wakeAt: undefined,
        wakeSlot: -1,
        incCounter: 0,
        inc: 0,
        hard: undefined,
        frozenUntil: 0,
        lastWake: -1,
        sameWakes: 0,
        keys: opts.trust ? opts.trust.keys(i) : [],
        trust: undefined,
      });
    }
    for (let i = 0; i < opts.hosts; i++) if (!late.has(i)) this.start(i);
  }

  private rngInt(): number {
    return Math.floor(this.rng() * 0x100000000);
  }

  get size(): number {
    return this.hosts.length;
  }

  node(i: NodeId): RmNode | undefined {
    return this.hosts[i]?.node;
  }

  /** Start (or restart after a crash) node i with a fresh, larger incarnation. */
  start(i: NodeId): void {
    const h = this.hosts[i] as Host;
    if (h.node) return;
    h.incCounter++;
    const inc = h.incCounter * 1000 + 1 + i;
    const rng = seededRng(this.rngInt());
    const opts: ConstructorParameters<typeof RmNode>[0] = {
      id: i,
      hostCount: this.hosts.length,
      incarnation: inc,
      ordering: this.ordering,
      limits: this.limits,
      random: rng,
      now: this.now,
    };
    opts.membership = this.membership;
    if (h.hard) opts.hard = h.hard;
    if (this.orderFactory) opts.makeOrder = this.orderFactory;
    if (this.trustOpts) {
      h.trust = new Trust({
        cluster: this.trustOpts.cluster ?? "rmchat",
        keys: h.keys,
        self: i,
        epoch: inc,
        ...(this.trustOpts.aead ? { aead: this.trustOpts.aead } : {}),
      });
      opts.limits = { ...this.limits, maxDatagram: this.limits.maxDatagram - h.trust.overhead };
    }
    if (this.historyMessages !== undefined) opts.historyMessages = this.historyMessages;
    if (this.unsafe) opts.unsafe = this.unsafe;
    h.node = new RmNode(opts);
    h.inc = inc;
    this.history.push({ kind: "start", t: this.now, node: i, inc });
    this.tracer?.start(this.now, i, inc, this.ordering);
    this.settle(i);
  }

  crash(i: NodeId): void {
    const h = this.hosts[i] as Host;
    if (!h.node) return;
    this.tracer?.crash(this.now, i, h.inc);
    h.node = undefined;
    h.trust = undefined;
    this.changes++;
    h.wakeToken++;
    h.wakeAt = undefined;
    this.disarm(h);
    this.history.push({ kind: "crash", t: this.now, node: i });
  }

  /** The trust layer of node i's running life (undefined: down, or no trust layer). */
  trustOf(i: NodeId): Trust | undefined {
    return this.hosts[i]?.trust;
  }

  /** Install a new keyring on node i (now and for its later lives): rotation. */
  setKeys(i: NodeId, keys: Uint8Array[]): void {
    const h = this.hosts[i] as Host;
    h.keys = keys;
    h.trust?.setKeys(keys);
  }

  /** Block traffic between the two groups (both directions). */
  partition(a: NodeId[], b: NodeId[]): void {
    for (const x of a)
      for (const y of b) {
        this.blocked.add(x * 1024 + y);
        this.blocked.add(y * 1024 + x);
      }
  }

  heal(): void {
    this.blocked.clear();
  }

  /** User on node i types `text`. Returns false when the node is down or refused it. */
  send(i: NodeId, text: string): boolean {
    const h = this.hosts[i] as Host;
    const n = h.node;
    if (!n) return false;
    const r = n.send(this.now, text);
    // The "send" itself is recorded when the node reports it left ("sent", in settle).
    if (r.ok) this.history.push({ kind: "accept", t: this.now, node: i, inc: h.inc, text });
    else this.history.push({ kind: "refused", t: this.now, node: i, text, error: r.error });
    this.settle(i);
    return r.ok;
  }

  /** Call into node i's API now (e.g. a leadership transfer), then put its output on the network. */
  act(i: NodeId, fn: (node: RmNode, now: number) => void): void {
    const n = this.hosts[i]?.node;
    if (!n) return;
    fn(n, this.now);
    this.settle(i);
  }

  /** Run `fn` at virtual time t. */
  at(t: number, fn: () => void): void {
    this.queue.push(Math.max(t, this.now), ACTION, 0, 0, fn);
  }

  /** The periodic observer (see `every`): its next time, its place among equal times, its period. */
  private probeAt = Infinity;
  private probeOrder = 0;
  private probeEvery = 0;
  private probeFn: ((t: number) => void) | undefined;

  /**
   * Call `fn` at `start`, `start + period`, … for ever: exactly as if each call were put in the
   * queue with `at` (the first now, each next one by the call before it), but without being an
   * event. An observer that only reads the nodes (it must not change them, send, or schedule)
   * then costs no queue traffic; the events around it keep their order and their times. One
   * observer per simulator. Stops with the run; `runUntilQuiet` does not wait for it.
   */
  every(start: number, period: number, fn: (t: number) => void): void {
    if (this.probeFn) throw new Error("Sim.every: one periodic observer per simulator");
    if (!(period > 0)) throw new RangeError(`Sim.every: the period must be > 0 (got ${period})`);
    this.probeAt = Math.max(start, this.now);
    this.probeOrder = this.queue.nextOrder;
    this.probeEvery = period;
    this.probeFn = fn;
  }

  /** Process events up to virtual time `until` (ms); returns the number processed. */
  run(until: number, maxEvents = 5_000_000): number {
    const q = this.queue;
    let n = 0;
    while (n < maxEvents) {
      const t = q.peekTime();
      // The observer goes first when it is due before the next event, or at the same time
      // but put in the queue before it (as `at` would have).
      if (
        this.probeAt <= until &&
        (this.probeAt < t || (this.probeAt === t && this.probeOrder <= q.peekOrder()))
      ) {
        this.probe();
        continue;
      }
      if (t > until) break;
      q.pop();
      this.now = q.t;
      this.dispatch(q.kind, q.a, q.b, q.ref);
      n++;
    }
    this.events += n;
    if (this.now < until && n < maxEvents) this.now = until;
    return n;
  }

  private probe(): void {
    const t = this.probeAt;
    this.now = t;
    (this.probeFn as (t: number) => void)(t);
    // Where `at(t + period)` at the end of the call would have put the next one.
    this.probeAt = t + this.probeEvery;
    this.probeOrder = this.queue.nextOrder;
  }

  /** Run until no datagram is in flight and no timer is armed, or `limit` ms pass. Returns true when quiet. */
  runUntilQuiet(limit: number): boolean {
    const end = this.now + limit;
    for (;;) {
      if (this.quiet()) return true;
      const t = this.queue.peekTime();
      if (this.queue.size === 0 || t > end) return this.quiet();
      this.run(t);
    }
  }

  /** No traffic pending and nothing unacknowledged or held back on any live node. */
  quiet(): boolean {
    for (const h of this.hosts) {
      if (!h.node) continue;
      const b = h.node.buffered();
      if (b.unacked > 0 || b.heldBack > 0) return false;
    }
    return true;
  }

  /** SIGSTOP node i for `ms`: nothing it receives or schedules is handled until it wakes. */
  freeze(i: NodeId, ms: number): void {
    const h = this.hosts[i] as Host;
    h.frozenUntil = Math.max(h.frozenUntil, this.now + ms);
  }

  private dispatch(kind: number, a: number, b: number, ref: EventRef | undefined): void {
    if (kind === ACTION) {
      (ref as () => void)();
      return;
    }
    const h = this.hosts[a] as Host;
    // The node's timer just left the queue (a re-armed one was moved, a disarmed one removed).
    if (kind === WAKE) h.wakeSlot = -1;
    if (h.frozenUntil > this.now) {
      const s = this.queue.push(h.frozenUntil, kind, a, b, ref);
      if (kind === WAKE) h.wakeSlot = s;
      return;
    }
    const node = h.node;
    if (!node) return;
    if (kind === ARRIVE) {
      this.inject(a, b, ref as Uint8Array);
      return;
    }
    // A timer: stale when re-armed (or the node restarted) since it was set.
    if (b !== h.wakeToken) return;
    h.wakeAt = undefined;
    if (this.now === h.lastWake) {
      if (++h.sameWakes > 1000)
        throw new Error(
          `node ${a} wakes again and again at t=${this.now}: a timer that never advances`,
        );
    } else {
      h.lastWake = this.now;
      h.sameWakes = 0;
    }
    node.tick(this.now);
    this.settle(a);
  }

  /** Hand bytes to node `to` as if they came from `from`'s address (garbage and replay tests). */
  inject(to: NodeId, from: NodeId | undefined, bytes: Uint8Array): void {
    const h = this.hosts[to] as Host;
    if (!h.node) return;
    let frame = bytes;
    if (h.trust) {
      const o = h.trust.open(bytes, from);
      if (typeof o === "string" || o.kind !== "frame") return;
      frame = o.payload;
    }
    if (from !== undefined) this.tracer?.receive(this.now, to, h.inc, from, frame);
    h.node.receive(this.now, from, frame);
    this.settle(to);
  }

  /** Settles in progress (an observer may call back into the simulator from inside one). */
  private settling = 0;

  /** Drain node i: put its datagrams on the network, record its events, re-arm its timer. */
  private settle(i: NodeId): void {
    const h = this.hosts[i] as Host;
    const n = h.node;
    if (!n) return;
    this.changes++;
    // The node's reused lists (nothing allocated), unless an observer called back into the
    // simulator while an outer settle still reads them (then fresh ones, as `drain` makes).
    const out = this.settling === 0 ? n.drainReused(this.now) : n.drain(this.now);
    this.settling++;
    if (out.persist) h.hard = out.persist;
    // Indexed loops: this runs after every input, and iterators here cost an allocation each.
    const datagrams = out.datagrams;
    for (let k = 0; k < datagrams.length; k++) {
      const d = datagrams[k] as OutDatagram;
      this.transmit(i, d.to, d.bytes, h, n.incarnation);
    }
    if (out.events.length > 0) this.record(i, h, out.events);
    // (Left raised when an observer throws: later settles then take fresh lists, still correct.)
    this.settling--;
    const w = n.nextWake();
    if (w !== h.wakeAt) {
      h.wakeAt = w;
      h.wakeToken++;
      // Moving the armed event is what pushing a new one would do (the old one would be stale).
      if (w === undefined) this.disarm(h);
      else if (h.wakeSlot >= 0)
        this.queue.reschedule(h.wakeSlot, Math.max(w, this.now), h.wakeToken);
      else h.wakeSlot = this.queue.push(Math.max(w, this.now), WAKE, i, h.wakeToken, undefined);
    }
  }

  /** Take node h's timer event out of the queue, if one is there. */
  private disarm(h: Host): void {
    if (h.wakeSlot < 0) return;
    this.queue.remove(h.wakeSlot);
    h.wakeSlot = -1;
  }

  /** Node i's events, in order, into the history (and to the tracer and the observer). */
  private record(i: NodeId, h: Host, events: NodeEvent[]): void {
    for (let k = 0; k < events.length; k++) {
      const ev = events[k] as NodeEvent;
      // Events come in order: a rejoin changes the incarnation of everything after it.
      this.tracer?.event(this.now, i, h.inc, ev);
      if (ev.type === "deliver") {
        // deliveryExtras' fields, in its order, set on the record itself (no spread).
        const rec: Extract<HistoryEvent, { kind: "deliver" }> = {
          kind: "deliver",
          t: this.now,
          node: i,
          inc: h.inc,
          from: ev.from,
          seq: ev.seq,
          text: ev.text,
        };
        if (ev.order !== undefined) rec.order = ev.order;
        if (ev.vc !== undefined) rec.vc = ev.vc;
        if (ev.inc !== undefined) rec.fromInc = ev.inc;
        if (ev.history) rec.history = true;
        this.history.push(rec);
      } else if (ev.type === "sent") {
        this.history.push({
          kind: "send",
          t: this.now,
          node: i,
          inc: h.inc,
          seq: ev.seq,
          text: ev.text,
        });
      } else if (ev.type === "rejoin") {
        h.inc = ev.incarnation;
        this.history.push({
          kind: "rejoin",
          t: this.now,
          node: i,
          inc: ev.incarnation,
          reason: ev.reason,
        });
      } else if (ev.type === "leader") {
        this.history.push({
          kind: "leader",
          t: this.now,
          node: i,
          term: ev.term,
          leader: ev.leader,
        });
      } else if (ev.type === "view") {
        this.history.push({
          kind: "view",
          t: this.now,
          node: i,
          term: ev.term,
          version: ev.version,
          members: ev.members,
          incs: ev.incs,
        });
      }
      this.onEvent?.(i, ev);
    }
  }

  private transmit(from: NodeId, to: NodeId, bytes: Uint8Array, h: Host, inc: number): void {
    this.datagrams++;
    this.sentTo[to] = (this.sentTo[to] as number) + 1;
    const tr = this.tracer;
    const userDelay = h.faults.plan();
    if (userDelay === undefined) {
      tr?.datagram(this.now, from, inc, to, bytes, "fault");
      // As the UDP shell counts it: the data entries the lost datagram carried (a decode per
      // loss, so runs that do not read the count may turn it off).
      if (this.countDroppedEntries) {
        const f = decodeFrame(bytes, this.hosts.length);
        if (f.ok) h.faults.droppedEntries += f.frame.data.length;
      }
      return;
    }
    // The trace shows the frame the node made (its hash joins it to the frame received).
    const frame = bytes;
    if (h.trust) bytes = h.trust.wrap("frame", to, bytes);
    this.tap?.(from, to, bytes);
    if (this.blocked.size > 0 && this.blocked.has(from * 1024 + to)) {
      tr?.datagram(this.now, from, inc, to, frame, "partition");
      return;
    }
    const lf = this.link(from, to, this.now);
    if (lf.drop > 0 && this.rng() < lf.drop) {
      // A link that drops everything is a partition (the fuzz runner draws them that way).
      tr?.datagram(this.now, from, inc, to, frame, lf.drop >= 1 ? "partition" : "link");
      return;
    }
    tr?.datagram(this.now, from, inc, to, frame);
    const copies = lf.duplicate > 0 && this.rng() < lf.duplicate ? 2 : 1;
    for (let c = 0; c < copies; c++) {
      const delay = userDelay + lf.delayMinMs + this.rng() * (lf.delayMaxMs - lf.delayMinMs);
      this.queue.push(this.now + delay, ARRIVE, to, from, bytes);
    }
  }
}
