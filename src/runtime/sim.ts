import {
  defaultMembership,
  type MembershipConfig,
  scaleForDelay,
} from "../core/membership/config.js";
import type { HardState } from "../core/membership/election.js";
import { type NodeEvent, RmNode } from "../core/node.js";
import type { OrderFactory } from "../core/order/index.js";
import {
  DEFAULT_LIMITS,
  type MsgSeq,
  type NodeId,
  type Ordering,
  type ProtocolLimits,
} from "../core/types.js";
import { FaultInjector, type FaultSettings } from "./faults.js";
import { EventHeap } from "./heap.js";
import { type Rng, seededRng } from "./rng.js";

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
}

export type HistoryEvent =
  | { kind: "send"; t: number; node: NodeId; inc: number; seq: MsgSeq; text: string }
  | { kind: "refused"; t: number; node: NodeId; text: string; error: string }
  | {
      kind: "deliver";
      t: number;
      node: NodeId;
      inc: number;
      from: NodeId;
      /** The sender's incarnation, as the protocol reports it. */
      fromInc?: number;
      seq: MsgSeq;
      text: string;
      order?: number;
      vc?: number[];
      /** State transfer (a new member's recent past). */
      history?: true;
    }
  /** The node started over as a new member (new incarnation) without crashing. */
  | { kind: "rejoin"; t: number; node: NodeId; inc: number }
  | { kind: "crash"; t: number; node: NodeId }
  | { kind: "start"; t: number; node: NodeId; inc: number }
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

type SimEvent =
  | { type: "arrive"; to: NodeId; from: NodeId; bytes: Uint8Array; toInc: number }
  | { type: "wake"; node: NodeId; token: number }
  | { type: "action"; fn: () => void };

interface Host {
  node: RmNode | undefined;
  faults: FaultInjector;
  wakeToken: number;
  wakeAt: number | undefined;
  incCounter: number;
  /** The incarnation the history attributes events to (changes at a rejoin, in event order). */
  life: number;
  /** What the node persisted (term and vote): survives crashes, like a disk. */
  hard: HardState | undefined;
  /** When the process is frozen (SIGSTOP) until; events wait for it. */
  frozenUntil: number;
  lastWake: number;
  sameWakes: number;
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
  private readonly heap = new EventHeap<SimEvent>();
  private readonly rng: Rng;
  private readonly limits: ProtocolLimits;
  private readonly membership: MembershipConfig;
  private readonly orderFactory: OrderFactory | undefined;
  private readonly link: (from: NodeId, to: NodeId, now: number) => LinkFaults;
  /** Blocked directed links (partitions). */
  private readonly blocked = new Set<number>();
  /** Optional observer of every node event (tests, TUI-less demos). */
  onEvent: ((node: NodeId, ev: NodeEvent) => void) | undefined;
  datagrams = 0;
  /** Datagrams sent to each node (whether or not it runs). */
  readonly sentTo: number[] = [];

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
    const late = new Set(opts.lateStart ?? []);
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
        incCounter: 0,
        life: 0,
        hard: undefined,
        frozenUntil: 0,
        lastWake: -1,
        sameWakes: 0,
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
    h.node = new RmNode(opts);
    h.life = inc;
    this.history.push({ kind: "start", t: this.now, node: i, inc });
    this.settle(i);
  }

  crash(i: NodeId): void {
    const h = this.hosts[i] as Host;
    if (!h.node) return;
    h.node = undefined;
    h.wakeToken++;
    h.wakeAt = undefined;
    this.history.push({ kind: "crash", t: this.now, node: i });
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
    // A send is recorded when the message leaves (the node's "sent" event), which may be
    // later: a node holds its messages while it is outside a view or inside a view change.
    if (!r.ok) this.history.push({ kind: "refused", t: this.now, node: i, text, error: r.error });
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
    this.heap.push(Math.max(t, this.now), { type: "action", fn });
  }

  /** Process events up to virtual time `until` (ms); returns the number processed. */
  run(until: number, maxEvents = 5_000_000): number {
    let n = 0;
    for (;;) {
      const t = this.heap.peekTime();
      if (t === undefined || t > until || n >= maxEvents) break;
      const e = this.heap.pop() as { t: number; v: SimEvent };
      this.now = e.t;
      this.dispatch(e.v);
      n++;
    }
    if (this.now < until && n < maxEvents) this.now = until;
    return n;
  }

  /** Run until no datagram is in flight and no timer is armed, or `limit` ms pass. Returns true when quiet. */
  runUntilQuiet(limit: number): boolean {
    const end = this.now + limit;
    for (;;) {
      if (this.quiet()) return true;
      const t = this.heap.peekTime();
      if (t === undefined || t > end) return this.quiet();
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

  private dispatch(ev: SimEvent): void {
    const target = ev.type === "arrive" ? ev.to : ev.type === "wake" ? ev.node : undefined;
    if (target !== undefined) {
      const h = this.hosts[target] as Host;
      if (h.frozenUntil > this.now) {
        this.heap.push(h.frozenUntil, ev);
        return;
      }
    }
    switch (ev.type) {
      case "action":
        ev.fn();
        return;
      case "wake": {
        const h = this.hosts[ev.node] as Host;
        if (!h.node || ev.token !== h.wakeToken) return;
        h.wakeAt = undefined;
        if (this.now === h.lastWake) {
          if (++h.sameWakes > 1000)
            throw new Error(
              `node ${ev.node} wakes again and again at t=${this.now}: a timer that never advances`,
            );
        } else {
          h.lastWake = this.now;
          h.sameWakes = 0;
        }
        h.node.tick(this.now);
        this.settle(ev.node);
        return;
      }
      case "arrive": {
        const h = this.hosts[ev.to] as Host;
        if (!h.node) return;
        h.node.receive(this.now, ev.from, ev.bytes);
        this.settle(ev.to);
        return;
      }
    }
  }

  /** Inject raw bytes as if they came from `from`'s address (garbage tests). */
  inject(to: NodeId, from: NodeId | undefined, bytes: Uint8Array): void {
    const h = this.hosts[to] as Host;
    if (!h.node) return;
    h.node.receive(this.now, from, bytes);
    this.settle(to);
  }

  /** Drain node i: put its datagrams on the network, record its events, re-arm its timer. */
  private settle(i: NodeId): void {
    const h = this.hosts[i] as Host;
    const n = h.node;
    if (!n) return;
    const out = n.drain(this.now);
    if (out.persist) h.hard = out.persist;
    for (const d of out.datagrams) this.transmit(i, d.to, d.bytes, h);
    for (const ev of out.events) {
      if (ev.type === "deliver") {
        const rec: HistoryEvent = {
          kind: "deliver",
          t: this.now,
          node: i,
          inc: h.life,
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
          inc: h.life,
          seq: ev.seq,
          text: ev.text,
        });
      } else if (ev.type === "rejoin") {
        h.life = ev.incarnation;
        this.history.push({ kind: "rejoin", t: this.now, node: i, inc: ev.incarnation });
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
    const w = n.nextWake();
    if (w !== h.wakeAt) {
      h.wakeAt = w;
      h.wakeToken++;
      if (w !== undefined)
        this.heap.push(Math.max(w, this.now), { type: "wake", node: i, token: h.wakeToken });
    }
  }

  private transmit(from: NodeId, to: NodeId, bytes: Uint8Array, h: Host): void {
    this.datagrams++;
    this.sentTo[to] = (this.sentTo[to] ?? 0) + 1;
    const userDelay = h.faults.plan();
    if (userDelay === undefined) return;
    if (this.blocked.has(from * 1024 + to)) return;
    const lf = this.link(from, to, this.now);
    if (lf.drop > 0 && this.rng() < lf.drop) return;
    const copies = lf.duplicate > 0 && this.rng() < lf.duplicate ? 2 : 1;
    for (let c = 0; c < copies; c++) {
      const delay = userDelay + lf.delayMinMs + this.rng() * (lf.delayMaxMs - lf.delayMinMs);
      this.heap.push(this.now + delay, { type: "arrive", to, from, bytes, toInc: 0 });
    }
  }
}
