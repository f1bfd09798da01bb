import type { NodeEvent } from "../core/node.js";
import { Logger } from "../log.js";
import { StartError, UdpRuntime } from "../runtime/udp.js";
import { mono } from "./clock.js";
import { Histogram } from "./histogram.js";
import type { FromWorker, NodeResult, ToWorker } from "./protocol.js";
import { DeliveryChecker } from "./verify.js";
import { warmUp } from "./warmup.js";
import {
  makeText,
  type ParsedText,
  parseText,
  plannedCount,
  type WorkloadSpec,
} from "./workloads.js";

/** Burst: messages handed to rmchat per event-loop turn (receiving goes on between turns). */
const BURST_BATCH = 256;
/** Wait after a refused send (backlog full) before trying again, ms. */
const REFUSED_RETRY_MS = 1;
const PROGRESS_MS = 250;
const MEMORY_SAMPLE_MS = 1000;

/**
 * One benchmark node: a real UdpRuntime (real socket, real timers) driven by a workload,
 * recording every delivery. It runs inside a worker process (or several in one process with
 * --in-process) and talks to the coordinator through `emit` / `handle`.
 */
export class BenchNode {
  private rt: UdpRuntime | undefined;
  private spec!: WorkloadSpec;
  private id = -1;
  private checker!: DeliveryChecker;
  private readonly latency = new Histogram();
  private peersUp = new Set<number>();
  private readySent = false;
  private goAt = 0;
  private sent = 0;
  private refused = 0;
  private delivered = 0;
  private planned = 0;
  private firstDeliveryAt = 0;
  private lastDeliveryAt = 0;
  private sendDoneAt = 0;
  private expect: number[] | undefined;
  private doneSent = false;
  private cpuAtGo: NodeJS.CpuUsage | undefined;
  private readonly memory: Array<[number, number, number]> = [];
  /** Start timer, progress and memory intervals. */
  private timers: NodeJS.Timeout[] = [];
  /** The workload's own pending timer (paced schedule, retry after refusal). */
  private workTimer: NodeJS.Timeout | undefined;
  private sharedProcess = false;
  private stopped = false;
  private readonly parsed: ParsedText = { from: 0, seq: 0, sentAt: 0, hop: 0 };
  /** From the start instant on: membership events counted for the row. */
  private measuring = false;
  private readonly leaderTerms = new Set<number>();
  private leaderLost = 0;
  private falseDead = 0;
  private deadVerdicts = 0;
  private rejoins = 0;
  private readonly downDeadSeen = new Set<number>();
  private readonly downDeadAt: number[] = [];

  constructor(private readonly emit: (m: FromWorker) => void) {}

  handle(m: ToWorker): void {
    switch (m.t) {
      case "init":
        void this.init(m.id, m.spec, m.ports, m.sharedProcess === true, m.stateDir);
        break;
      case "go":
        this.go(m.at);
        break;
      case "expect":
        this.expect = m.counts;
        this.checkDone();
        break;
      case "collect":
        this.emit({ t: "result", result: this.result() });
        break;
      default:
        break;
    }
  }

  private async init(
    id: number,
    spec: WorkloadSpec,
    ports: number[],
    shared: boolean,
    stateDir: string | undefined,
  ) {
    this.id = id;
    this.spec = spec;
    this.sharedProcess = shared;
    this.planned = plannedCount(spec);
    this.checker = new DeliveryChecker(spec.nodes, id, spec.ordering, spec.workload === "chain");
    if (spec.warmup) warmUp(spec);
    try {
      this.rt = await UdpRuntime.start({
        id,
        hosts: ports.map((port) => ({ host: "127.0.0.1", port })),
        ordering: spec.ordering,
        limits: spec.limits,
        // Faults are switched on at the start instant: first every node must know every other.
        faults: { delay: 0, drop: 0 },
        logger: new Logger("warn", { node: id, bench: true }),
        // Term and vote of throw-away nodes: in the benchmark's own temporary directory.
        stateDir,
        keys: spec.key ? [new Uint8Array(Buffer.from(spec.key, "base64"))] : undefined,
      });
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      this.emit({ t: "error", id, msg, retryable: e instanceof StartError && /in use/.test(msg) });
      return;
    }
    this.rt.onEvent((ev) => this.onEvent(ev));
    this.checkReady();
  }

  /**
   * Ready when every peer has been heard from, a leader is elected and its view holds all N
   * members: the measured run starts in a settled group, not in the first election.
   */
  private checkReady(): void {
    if (this.readySent || !this.rt || this.peersUp.size < this.spec.nodes - 1) return;
    const st = this.rt.node.status();
    if (st.leader === undefined || st.view.members.length < this.spec.nodes) return;
    this.readySent = true;
    this.emit({ t: "ready", id: this.id });
  }

  private onEvent(ev: NodeEvent): void {
    if (ev.type === "deliver") {
      this.onDeliver(ev.from, ev.seq, ev.text, ev.order, ev.vc);
    } else if (ev.type === "peer") {
      if (!this.peersUp.has(ev.peer)) {
        this.peersUp.add(ev.peer);
        this.checkReady();
      }
    } else if (ev.type === "leader" || ev.type === "view") {
      if (ev.type === "leader" && this.measuring) {
        if (ev.leader === null) this.leaderLost++;
        else if (this.leaderTerms.size < 1000) this.leaderTerms.add(ev.term);
      }
      this.checkReady();
    } else if (ev.type === "rejoin" && this.measuring) {
      this.rejoins++;
    } else if (ev.type === "health" && ev.to === "dead" && this.measuring) {
      this.deadVerdicts++;
      // The highest `down` ids are killed before the start instant; every other node runs
      // until the results are collected (a crash is reported as a problem of the run).
      if (ev.peer < this.spec.nodes - this.spec.down) this.falseDead++;
      else if (!this.downDeadSeen.has(ev.peer)) {
        this.downDeadSeen.add(ev.peer);
        this.downDeadAt.push(mono());
      }
    }
  }

  private onDeliver(
    from: number,
    seq: number,
    text: string,
    order: number | undefined,
    vc: number[] | undefined,
  ): void {
    const p = this.parsed;
    let hop = 0;
    if (!parseText(text, p) || p.from !== from || p.seq !== seq) {
      this.checker.violations++;
      if (this.checker.samples.length < 10) {
        this.checker.samples.push(`node ${this.id}: ${from}#${seq} arrived with altered text`);
      }
    } else hop = p.hop;
    this.checker.check(from, seq, hop, order, vc);
    this.delivered++;
    if (from !== this.id) {
      const now = mono();
      this.latency.record(now - p.sentAt);
      if (this.firstDeliveryAt === 0) this.firstDeliveryAt = now;
      this.lastDeliveryAt = now;
      if (this.spec.workload === "chain") this.onChainLink(hop);
    }
    if (this.expect) this.checkDone();
  }

  private go(at: number): void {
    const rt = this.rt;
    if (!rt) return;
    this.goAt = at;
    const wait = Math.max(0, at - mono());
    const t = setTimeout(() => {
      this.cpuAtGo = process.cpuUsage();
      this.measuring = true;
      rt.setFaults({ delay: this.spec.delay, drop: this.spec.drop });
      this.startWorkload();
    }, wait);
    this.timers.push(t);
    const progress = setInterval(() => {
      this.emit({ t: "progress", id: this.id, delivered: this.delivered, sent: this.sent });
    }, PROGRESS_MS);
    const memory = setInterval(() => this.sampleMemory(), MEMORY_SAMPLE_MS);
    progress.unref();
    memory.unref();
    this.timers.push(progress, memory);
  }

  private sampleMemory(): void {
    const m = process.memoryUsage();
    this.memory.push([(mono() - this.goAt) / 1000, m.rss, m.heapUsed]);
    // Bounded: a 600 s run samples 600 times; keep the first 3600 at most.
    if (this.memory.length > 3600) this.memory.length = 3600;
  }

  private startWorkload(): void {
    switch (this.spec.workload) {
      case "burst":
        this.burstTurn();
        break;
      case "paced":
        this.pacedStart();
        break;
      case "chain":
        if (this.id === 0) this.sendOne(1);
        else if (this.planned === 0) this.sendingDone();
        break;
    }
  }

  /** Hands one message to rmchat; false when refused (backlog full). */
  private sendOne(hop: number): boolean {
    const rt = this.rt as UdpRuntime;
    const seq = this.sent + 1;
    const r = rt.send(makeText(this.id, seq, mono(), hop, this.spec.size));
    if (!r.ok) {
      this.refused++;
      return false;
    }
    this.sent++;
    return true;
  }

  private sendingDone(): void {
    this.sendDoneAt = mono();
    this.emit({ t: "sent", id: this.id, count: this.sent });
  }

  private burstTurn = (): void => {
    if (this.stopped) return;
    const end = Math.min(this.planned, this.sent + BURST_BATCH);
    while (this.sent < end) {
      if (!this.sendOne(0)) {
        this.workTimer = setTimeout(this.burstTurn, REFUSED_RETRY_MS);
        return;
      }
    }
    if (this.sent < this.planned) setImmediate(this.burstTurn);
    else this.sendingDone();
  };

  private pacedStartAt = 0;
  private pacedInterval = 0;
  private pacedAttempts = 0;

  private pacedStart(): void {
    this.pacedInterval = 1000 / this.spec.rate;
    // Stagger the senders evenly over one interval.
    this.pacedStartAt = this.goAt + (this.id / this.spec.nodes) * this.pacedInterval;
    this.pacedTick();
  }

  private pacedTick = (): void => {
    if (this.stopped) return;
    const now = mono();
    const due = Math.min(
      this.planned,
      Math.floor((now - this.pacedStartAt) / this.pacedInterval) + 1,
    );
    // A refused send is not retried: the offered load is the schedule, refusals are counted.
    while (this.pacedAttempts < due) {
      this.pacedAttempts++;
      this.sendOne(0);
    }
    if (this.pacedAttempts >= this.planned) {
      this.sendingDone();
      return;
    }
    const next = this.pacedStartAt + this.pacedAttempts * this.pacedInterval;
    this.workTimer = setTimeout(this.pacedTick, Math.max(0, next - mono()));
  };

  private onChainLink(hop: number): void {
    const n = this.spec.nodes;
    const total = n * this.spec.count;
    // Link h is sent by node (h - 1) mod N; the node after the sender of h sends h + 1.
    if (hop < 1 || hop >= total || hop % n !== this.id) return;
    if (!this.sendOne(hop + 1)) {
      // Backlog full cannot happen with one message in flight; count it and stop the chain.
      this.sendingDone();
      return;
    }
    if (this.sent >= this.planned) this.sendingDone();
  }

  private checkDone(): void {
    const exp = this.expect;
    if (this.doneSent || !exp) return;
    const per = this.checker.perSender;
    for (let k = 0; k < exp.length; k++) if ((per[k] as number) < (exp[k] as number)) return;
    this.doneSent = true;
    this.emit({ t: "done", id: this.id });
  }

  result(): NodeResult {
    // One sample at the end too: a run shorter than the sampling interval has one.
    if (this.cpuAtGo) this.sampleMemory();
    const rt = this.rt;
    const st = rt?.stats();
    const cpu = process.cpuUsage(this.cpuAtGo);
    const buf = rt?.node.buffered();
    return {
      id: this.id,
      sent: this.sent,
      refused: this.refused,
      delivered: this.delivered,
      perSender: [...this.checker.perSender],
      firstDeliveryAt: this.firstDeliveryAt,
      lastDeliveryAt: this.lastDeliveryAt,
      sendDoneAt: this.sendDoneAt,
      latency: this.latency.toData(),
      violations: this.checker.violations,
      violationSamples: [...this.checker.samples],
      chainInversions: this.checker.chainInversions,
      orderHash: this.checker.orderHash,
      datagramsSent: st?.datagramsSent ?? 0,
      datagramsReceived: st?.datagramsReceived ?? 0,
      bytesSent: st?.bytesSent ?? 0,
      retransmissions: st?.retransmissions ?? 0,
      fastRetransmissions: st?.fastRetransmissions ?? 0,
      duplicates: st?.duplicates ?? 0,
      faultDrops: rt?.faults.dropped ?? 0,
      faultDroppedEntries: rt?.faults.droppedEntries ?? 0,
      sendErrors: rt?.sendErrors ?? 0,
      dropped: { ...(st?.dropped ?? {}) } as Record<string, number>,
      unacked: buf?.unacked ?? 0,
      outOfOrder: buf?.outOfOrder ?? 0,
      heldBack: buf?.heldBack ?? 0,
      cpuUserUs: this.cpuAtGo ? cpu.user : 0,
      cpuSystemUs: this.cpuAtGo ? cpu.system : 0,
      maxRssKb: process.resourceUsage().maxRSS,
      memory: this.memory,
      sharedProcess: this.sharedProcess,
      leaderTerms: [...this.leaderTerms],
      leaderLost: this.leaderLost,
      falseDead: this.falseDead,
      deadVerdicts: this.deadVerdicts,
      downDeadAt: [...this.downDeadAt],
      rejoins: this.rejoins,
    };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
    if (this.workTimer) clearTimeout(this.workTimer);
    await this.rt?.close();
  }
}
