import { lookup as dnsLookup } from "node:dns";
import { statSync } from "node:fs";
import { isIP } from "node:net";
import { performance } from "node:perf_hooks";
import DgramAsPromised, { type SocketAsPromised } from "dgram-as-promised";
import { DEFAULT_CLUSTER, loadKeyFile } from "../config/config.js";
import {
  defaultMembership,
  type MembershipConfig,
  scaleForDelay,
} from "../core/membership/config.js";
import {
  type DropReason,
  type NodeEvent,
  type NodeStats,
  RmNode,
  type SendResult,
} from "../core/node.js";
import type { HeldMessage } from "../core/order/index.js";
import type { NodeId, Ordering, ProtocolLimits } from "../core/types.js";
import { decodeFrame } from "../core/wire.js";
import type { Logger } from "../log.js";
import { answerQuery, type StatusAnswer, statusReport } from "../status/protocol.js";
import { TraceRecorder } from "../trace/recorder.js";
import { FaultInjector, type FaultSettings } from "./faults.js";
import { HardStateFile } from "./hard-state.js";
import { PartitionFile } from "./partition-file.js";
import { type Endpoint, formatHostPort, resolveHosts } from "./resolve.js";
import { TraceFile } from "./trace-file.js";
import { type Opened, TRUST_DROPS, Trust, type TrustDrop } from "./trust.js";
import { WakeTimer } from "./wake-timer.js";

export interface UdpNodeOptions {
  id: NodeId;
  hosts: Array<{ host: string; port: number }>;
  ordering: Ordering;
  limits: ProtocolLimits;
  faults: FaultSettings;
  logger: Logger;
  /** Defaults to the wall clock in ms at start-up: a later life always has a larger one. */
  incarnation?: number;
  /** Membership timing overrides (scaled up by the injected delay). */
  membership?: Partial<MembershipConfig>;
  /** Where term and vote are persisted (default: defaultStateDir()). */
  stateDir?: string | undefined;
  /** `--trace FILE`: append one JSON trace record per line (see src/trace/events.ts). */
  trace?: string | undefined;
  /** State transfer: recent messages a new member receives (default 1000; 0: none). */
  historyMessages?: number;
  /** Cluster name (default "rmchat"): datagrams of another cluster are dropped. */
  cluster?: string | undefined;
  /** The keyring, primary first; none or empty: datagrams are not sealed. */
  keys?: readonly Uint8Array[] | undefined;
  /** Key file the ring came from: re-read when it changes (rotation without restart). */
  keyFile?: string | undefined;
}

/** Statistics of the node plus what the shell's trust layer dropped. */
export type RuntimeStats = Omit<NodeStats, "dropped"> & {
  dropped: Partial<Record<DropReason | TrustDrop, number>>;
};

/**
 * Endpoints are resolved once at start-up, so every send goes to an address literal: answer at
 * once instead of through dns.lookup, which costs a lookup call and a nextTick per datagram.
 */
function literalLookup(
  host: string,
  _opts: unknown,
  cb: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  const family = isIP(host);
  if (family !== 0) cb(null, host, family);
  else dnsLookup(host, (err, address, family) => cb(err, address, family));
}

/** The one warning line for a keyless node on a non-loopback address (undefined: none). */
export function exposureWarning(
  address: string,
  port: number,
  sealed: boolean,
): string | undefined {
  if (sealed || address.startsWith("127.") || address === "::1") return undefined;
  return `bound to ${formatHostPort(address, port)} without keys: anyone who can reach this port can read and forge this cluster's traffic (set "keys" or "keyFile", see README: Security)`;
}

/** Datagrams libuv reads from a readable UDP socket per event-loop turn (uv__udp_recvmsg). */
const READ_BATCH = 32;

/** A start-up problem the user can act on (port in use, unknown host…): one line, exit 2. */
export class StartError extends Error {}

/**
 * The real shell around RmNode: one UDP socket bound to this node's configured address,
 * the monotonic clock, one timer, and a flush at the end of each event-loop turn so that
 * everything produced in one turn is bundled into as few datagrams as possible.
 */
export class UdpRuntime {
  readonly node: RmNode;
  readonly faults: FaultInjector;
  private readonly byAddress = new Map<string, NodeId>();
  /** Fast path of `byAddress`: the first host with each port (checked against the address). */
  private readonly byPort = new Map<number, NodeId>();
  private flushScheduled = false;
  /** When the pending flush was asked for (an event-loop poll phase lies between it and the flush). */
  private flushAskedAt = 0;
  /** Datagrams read since the last flush, and when the latest of them was handed over. */
  private readSinceFlush = 0;
  private lastReadAt = 0;
  /** The timer fired: tick in the next flush, after the socket has been read. */
  private tickDue = false;
  /**
   * Wakes the node at its next deadline. Node runs timers before it polls sockets: the tick
   * runs in the flush, after this turn's reads.
   */
  private readonly wake = new WakeTimer(() => {
    if (this.closed) return;
    this.tickDue = true;
    this.scheduleFlush();
  });
  private closed = false;
  private readonly listeners: Array<(evs: readonly NodeEvent[]) => void> = [];
  /** Events produced before anyone listened: handed to the first listener. */
  private early: NodeEvent[] = [];
  private readonly hard: HardStateFile;
  private readonly traceFile: TraceFile | undefined;
  private readonly tracer: TraceRecorder | undefined;
  /** The life trace records are attributed to (changes at a rejoin, in event order). */
  private traceLife = 0;
  /** Envelope, keyring and anti-replay state (src/runtime/trust.ts). */
  readonly trust: Trust;
  /** Addresses of the configured hosts (keyless status answers go only there). */
  private readonly hostAddresses = new Set<string>();
  private keyFileWatch: NodeJS.Timeout | undefined;
  sendErrors = 0;
  /** Status queries left unanswered (not from a host address without keys, or too small). */
  statusRefused = 0;

  private constructor(
    private readonly sock: SocketAsPromised,
    private readonly endpoints: Endpoint[],
    opts: UdpNodeOptions,
    readonly address: Endpoint,
  ) {
    this.hard = new HardStateFile(opts.stateDir, address.address, address.port);
    const hard = this.hard.load();
    const keys = opts.keys ?? [];
    this.trust = new Trust({
      cluster: opts.cluster ?? DEFAULT_CLUSTER,
      keys,
      self: opts.id,
      // Nonces are epoch ‖ counter: the epoch must grow across lives, so it is kept on disk.
      epoch: keys.length > 0 ? this.hard.nextEpoch(Date.now()) : 1,
    });
    const membership = scaleForDelay(
      { ...defaultMembership(opts.hosts.length), ...opts.membership },
      opts.faults.delay,
    );
    this.node = new RmNode({
      id: opts.id,
      hostCount: opts.hosts.length,
      incarnation: opts.incarnation ?? Date.now(),
      ordering: opts.ordering,
      // maxDatagram is the size on the wire: the envelope takes its share.
      limits: { ...opts.limits, maxDatagram: opts.limits.maxDatagram - this.trust.overhead },
      membership,
      random: Math.random,
      now: performance.now(),
      reportsCaughtUp: true,
      ...(opts.historyMessages !== undefined ? { historyMessages: opts.historyMessages } : {}),
      ...(hard ? { hard } : {}),
    });
    this.faults = new FaultInjector(opts.faults, Math.random);
    endpoints.forEach((e, i) => {
      this.hostAddresses.add(e.address);
      this.byAddress.set(`${e.address}:${e.port}`, i);
      if (!this.byPort.has(e.port)) this.byPort.set(e.port, i);
    });
    this.logger = opts.logger;
    if (opts.trace !== undefined) {
      let file: TraceFile;
      try {
        file = new TraceFile(opts.trace);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code ?? String(e);
        throw new StartError(`cannot open the trace file ${opts.trace}: ${code}`);
      }
      this.traceFile = file;
      this.tracer = new TraceRecorder(
        (r) => file.write(r),
        opts.hosts.length,
        performance.timeOrigin,
      );
      this.traceLife = this.node.incarnation;
      this.tracer.start(performance.now(), opts.id, this.traceLife, opts.ordering);
      file.flush();
    }
  }

  private readonly logger: Logger;

  static async start(opts: UdpNodeOptions): Promise<UdpRuntime> {
    if (!Number.isInteger(opts.id) || opts.id < 0 || opts.id >= opts.hosts.length) {
      throw new StartError(`id ${opts.id} is not in the host list (0..${opts.hosts.length - 1})`);
    }
    const { endpoints, family } = await resolveHosts(opts.hosts);
    const me = endpoints[opts.id] as Endpoint;
    // No SO_REUSEADDR/SO_REUSEPORT: a second process with the same id must fail, not share traffic.
    const sock = DgramAsPromised.createSocket({
      type: family === 6 ? "udp6" : "udp4",
      reuseAddr: false,
      lookup: literalLookup,
    });
    try {
      await sock.bind(me.port, me.address);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      sock.destroy();
      if (code === "EADDRINUSE") {
        throw new StartError(
          `port ${me.port} on ${me.address} is already in use (is another rmchat with id ${opts.id} running?)`,
        );
      }
      if (code === "EADDRNOTAVAIL") {
        throw new StartError(
          `cannot bind ${me.address}:${me.port}: that address is not on this machine`,
        );
      }
      if (code === "EACCES")
        throw new StartError(`cannot bind ${me.address}:${me.port}: permission denied`);
      throw new StartError(`cannot bind ${me.address}:${me.port}: ${code ?? String(e)}`);
    }
    try {
      sock.socket.setRecvBufferSize(4 * 1024 * 1024);
      sock.socket.setSendBufferSize(4 * 1024 * 1024);
    } catch {
      // the kernel may cap buffer sizes; defaults still work
    }
    let rt: UdpRuntime;
    try {
      rt = new UdpRuntime(sock, endpoints, opts, me);
    } catch (e) {
      sock.destroy();
      throw e;
    }
    const warning = exposureWarning(me.address, me.port, rt.trust.sealed);
    if (warning) opts.logger.warn(warning);
    if (opts.keyFile) rt.watchKeyFile(opts.keyFile);
    rt.attach();
    return rt;
  }

  private attach(): void {
    const raw = this.sock.socket;
    raw.on("message", (msg, rinfo) => {
      if (this.closed) return;
      this.readSinceFlush++;
      this.lastReadAt = performance.now();
      const from = this.sourceOf(rinfo.address, rinfo.port);
      if (this.partition?.has(from)) return;
      const o = this.trust.open(msg, from);
      if (typeof o === "string") {
        if (this.logger.enabled("debug"))
          this.logger.debug("dropped datagram", {
            from: `${rinfo.address}:${rinfo.port}`,
            bytes: msg.length,
            reason: o,
          });
        return;
      }
      if (o.kind === "query") {
        this.answerStatus(o, msg.length, rinfo.address, rinfo.port, from);
        return;
      }
      if (o.kind !== "frame") return;
      const now = this.lastReadAt;
      // The trace shows the frame (unsealed): its hash joins it to the frame its sender made.
      if (this.tracer && from !== undefined)
        this.tracer.receive(now, this.node.id, this.traceLife, from, o.payload);
      if (!this.node.receive(now, from, o.payload) && this.logger.enabled("debug")) {
        this.logger.debug("dropped datagram", {
          from: `${rinfo.address}:${rinfo.port}`,
          bytes: msg.length,
        });
      }
      this.scheduleFlush();
    });
    raw.on("error", (err) => {
      this.logger.warn("socket error", { error: err.message });
    });
    this.scheduleFlush();
  }

  /**
   * `rmchat status` (src/status/protocol.ts): answer with what this node knows (read-only).
   * Without keys only host addresses are answered; an answer is never larger than its query
   * unless the query came from a host's own address and port.
   */
  private answerStatus(
    query: Opened,
    queryBytes: number,
    address: string,
    port: number,
    from: NodeId | undefined,
  ): void {
    const source = { hostAddress: this.hostAddresses.has(address), host: from !== undefined };
    const r = answerQuery(this.trust, query, queryBytes, source, () => this.statusReport());
    if (r === undefined) return;
    if (typeof r === "string") this.statusRefused++;
    else this.sock.socket.send(r, port, address, this.afterSend);
  }

  /** Re-read the key file when it changes (checked every second): rotation without restart. */
  private watchKeyFile(path: string): void {
    let mtime = -1;
    try {
      mtime = statSync(path).mtimeMs;
    } catch {
      // reported at the next check
    }
    this.keyFileWatch = setInterval(() => {
      let m = -2;
      try {
        m = statSync(path).mtimeMs;
      } catch {
        // missing: keep the ring, warn below
      }
      if (m === mtime) return;
      mtime = m;
      try {
        this.setKeys(loadKeyFile(path));
      } catch (e) {
        this.logger.warn("key file not reloaded; keeping the current keyring", {
          error: (e as Error).message,
        });
      }
    }, 1000);
    this.keyFileWatch.unref();
  }

  /** Replace the keyring (primary first): sealing switches to the new primary at once. */
  setKeys(keys: readonly Uint8Array[]): void {
    this.trust.setKeys(keys);
    this.logger.info("keyring installed", { keys: this.trust.keyIds() });
  }

  /** The host id a datagram came from (configured address and port), if any. */
  private sourceOf(address: string, port: number): NodeId | undefined {
    const id = this.byPort.get(port);
    if (id !== undefined && (this.endpoints[id] as Endpoint).address === address) return id;
    return this.byAddress.get(`${address}:${port}`);
  }

  /** Injected partition (RMCHAT_PARTITION_FILE), for tests: peers this process cannot reach. */
  private readonly partition = process.env.RMCHAT_PARTITION_FILE
    ? new PartitionFile(process.env.RMCHAT_PARTITION_FILE)
    : undefined;

  /** Extra fields for status answers (the agent adds its name and table). */
  statusExtra: () => Record<string, unknown> = () => ({});

  statusReport(): StatusAnswer {
    return statusReport(
      this.node,
      formatHostPort(this.address.address, this.address.port),
      { sealed: this.trust.sealed, cluster: this.trust.cluster, dropped: this.stats().dropped },
      this.statusExtra(),
    );
  }

  /**
   * Planned stop of the leader: hand leadership to a live member at once (see
   * RmNode.transferLeadership). Returns the successor, or undefined when we do not lead.
   */
  transferLeadership(): NodeId | undefined {
    if (this.closed) return undefined;
    const to = this.node.transferLeadership(performance.now());
    this.scheduleFlush();
    return to;
  }

  onEvent(fn: (ev: NodeEvent) => void): void {
    this.onEvents((evs) => {
      for (const ev of evs) fn(ev);
    });
  }

  /** Events a batch at a time: everything one flush produced (line mode writes it at once). */
  onEvents(fn: (evs: readonly NodeEvent[]) => void): void {
    this.listeners.push(fn);
    const early = this.early;
    this.early = [];
    if (early.length > 0) fn(early);
  }

  private emit(events: NodeEvent[]): void {
    if (events.length === 0) return;
    if (this.listeners.length === 0) this.early.push(...events);
    else for (const l of this.listeners) l(events);
  }

  send(text: string): SendResult {
    const r = this.node.send(performance.now(), text);
    this.scheduleFlush();
    return r;
  }

  setFaults(f: Partial<FaultSettings>): void {
    this.faults.settings = { ...this.faults.settings, ...f };
  }

  stats(): RuntimeStats {
    const st: RuntimeStats = this.node.stats();
    const dropped = { ...st.dropped };
    for (const r of TRUST_DROPS) if (this.trust.dropped[r] > 0) dropped[r] = this.trust.dropped[r];
    return { ...st, dropped };
  }

  heldBack(): HeldMessage[] {
    return this.node.heldBack();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.closed) return;
    this.flushScheduled = true;
    this.flushAskedAt = performance.now();
    setImmediate(() => this.flush());
  }

  /**
   * How far the socket has been read, for the failure detector (RmNode.caughtUp). libuv reads
   * at most READ_BATCH datagrams from a readable socket per event-loop turn; fewer means the
   * read hit "would block": everything that had arrived was read. The flush runs in the check
   * phase, after that turn's poll phase.
   */
  private reportCaughtUp(now: number): void {
    const n = this.readSinceFlush;
    this.readSinceFlush = 0;
    // None read: the poll phase after the flush was asked for found the socket empty.
    if (n === 0) this.node.caughtUp(now, this.flushAskedAt);
    else if (n < READ_BATCH) this.node.caughtUp(now, this.lastReadAt);
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.closed) return;
    let now = performance.now();
    this.reportCaughtUp(now);
    if (this.tickDue) {
      // Timers run after the socket has been read: a heartbeat waiting in it counts.
      this.tickDue = false;
      this.node.tick(now);
      now = performance.now();
    }
    const out = this.node.drain(now);
    if (out.persist) {
      // Raft's rule: the vote is on disk before any message that depends on it leaves.
      try {
        this.hard.save(out.persist);
      } catch (e) {
        this.logger.warn("cannot persist term and vote", {
          path: this.hard.path,
          error: String(e),
        });
      }
    }
    // A delivery reaches the user before the acknowledgement and heartbeats leave (a write to
    // stdout, not a sendmsg that may wake the sender first); our own new message leaves before
    // anything is shown. With --trace, everything is recorded before it is shown, as before
    // (a process killed in between never printed more than its trace holds).
    const tr = this.tracer;
    const showFirst = tr === undefined && !out.events.some((ev) => ev.type === "sent");
    if (showFirst) this.emit(out.events);
    for (const d of out.datagrams) {
      const ep = this.endpoints[d.to] as Endpoint;
      const delay = this.faults.plan();
      if (tr) {
        const cut =
          delay === undefined ? "fault" : this.partition?.has(d.to) ? "partition" : undefined;
        tr.datagram(now, this.node.id, this.node.incarnation, d.to, d.bytes, cut);
      }
      if (delay === undefined) {
        // What the loss costs: the data entries it carried (`rmchat bench`: resends per loss).
        const f = decodeFrame(d.bytes, this.endpoints.length);
        if (f.ok) this.faults.droppedEntries += f.frame.data.length;
        continue;
      }
      const bytes = this.trust.wrap("frame", d.to, d.bytes);
      if (delay <= 0) this.transmit(bytes, ep);
      else setTimeout(() => this.transmit(bytes, ep), delay);
    }
    if (tr) {
      // Events before a rejoin in this batch belong to the old life, those after to the new.
      for (const ev of out.events) {
        tr.event(now, this.node.id, this.traceLife, ev);
        if (ev.type === "rejoin") this.traceLife = ev.incarnation;
      }
      this.traceFile?.flush();
    }
    if (!showFirst) this.emit(out.events);
    this.armTimer();
  }

  private transmit(bytes: Uint8Array, ep: Endpoint): void {
    if (this.partition?.has(this.sourceOf(ep.address, ep.port))) return;
    if (this.closed) return;
    this.sock.socket.send(bytes, ep.port, ep.address, this.afterSend);
  }

  /** One callback for every send (no closure per datagram); the error names the destination. */
  private readonly afterSend = (err: Error | null): void => {
    if (err) {
      this.sendErrors++;
      this.logger.debug("send failed", { error: err.message });
    }
  };

  private armTimer(): void {
    this.wake.arm(this.node.nextWake(), performance.now());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.tracer?.stop(performance.now(), this.node.id, this.traceLife);
    this.traceFile?.close();
    this.wake.stop();
    if (this.keyFileWatch) clearInterval(this.keyFileWatch);
    this.partition?.close();
    try {
      await this.sock.close();
    } catch {
      // already closed
    }
  }
}
