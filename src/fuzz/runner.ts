import type { UnsafeKnobs } from "../core/node-types.js";
import type { OrderFactory } from "../core/order/index.js";
import type { NodeId } from "../core/types.js";
import { seededRng } from "../runtime/rng.js";
import { type LinkFaults, PERFECT_LINK, Sim } from "../runtime/sim.js";
import { SIM_AEAD } from "../runtime/sim-aead.js";
import type { TraceRecorder } from "../trace/recorder.js";
import { MAX_LIVES_PER_NODE } from "./membership-checkers.js";
import type { LinkSpec, Plan } from "./scenario.js";
import type { NodeFinal, Trace } from "./trace.js";

/** Virtual time the network must stay quiet before the final state is taken, ms. */
const QUIET_MS = 3000;
/** Give up waiting for quiescence this long after the faults stopped, ms (virtual). */
const SETTLE_LIMIT_MS = 120_000;
const STEP_MS = 10;
/** How often a pending clean crash looks whether its victim's messages are all acknowledged. */
const CRASH_POLL_MS = 5;
/** How often the lease-overlap sampler looks, ms of virtual time. */
const LEASE_SAMPLE_MS = 5;

/**
 * State transfer in fuzz runs: above any run's message count (a plan sends at most a few
 * hundred), so every new life is owed the group's complete history.
 */
export const FUZZ_HISTORY_MESSAGES = 1000;

/** What this process simulated so far: runs, virtual time (ms) and simulator events. */
export const simulated = { runs: 0, virtualMs: 0, events: 0 };

export interface RunOptions {
  orderFactory?: OrderFactory;
  /** Record the run for a space-time diagram (`--diagram`). */
  tracer?: TraceRecorder;
  /** Deliberately broken protocol variants (negative controls). */
  unsafe?: UnsafeKnobs;
  /** Default FUZZ_HISTORY_MESSAGES. */
  historyMessages?: number;
}

export interface RunResult {
  trace: Trace;
  /** Virtual time at which the run settled, or undefined when it never did. */
  settledAt: number | undefined;
}

/** Filler, as code points: some take 2, 3 and 4 bytes in UTF-8 (and 2 UTF-16 units). */
const FILL = [..."abcdefghijklmnopqrstuvwxyz0123456789 éß€😀"];
const CYCLE = FILL.join("");
/** UTF-16 offset in CYCLE of each code point of FILL (and of its end). */
const AT: number[] = [0];
for (const c of FILL) AT.push((AT[AT.length - 1] as number) + c.length);

/** Code points FILL[r], FILL[r + 1], … (cyclically), `count` of them. */
function filler(r: number, count: number): string {
  const len = FILL.length;
  const first = Math.min(count, len - r);
  let s = CYCLE.slice(AT[r], AT[r + first]);
  const rest = count - first;
  if (rest > 0) s += CYCLE.repeat(Math.floor(rest / len)) + CYCLE.slice(0, AT[rest % len]);
  return s;
}

/**
 * A unique text of `size` code points (at least its tag). Empty only when `mayBeEmpty`: the
 * runner allows it once per node, in a node that never crashes and has not rejoined, so
 * (sender, seq, text) still tells every message apart.
 */
export function makeText(node: NodeId, k: number, size: number, mayBeEmpty: boolean): string {
  if (size === 0 && mayBeEmpty) return "";
  const tag = `n${node}.${k}|`;
  // Code point i (from the tag's end up to `size`) is FILL[(k + i) % FILL.length].
  return size > tag.length ? tag + filler((k + tag.length) % FILL.length, size - tag.length) : tag;
}

function linkFn(p: Plan): (from: NodeId, to: NodeId, now: number) => LinkFaults {
  const rng = seededRng(p.seed ^ 0x5bd1e995);
  // Every LinkFaults below is written out field by field, in one order: one hidden class, so
  // the simulator's reads of them stay monomorphic (spreads made several).
  const link = (drop: number, duplicate: number, delayMinMs: number, delayMaxMs: number) =>
    ({ drop, duplicate, delayMinMs, delayMaxMs }) satisfies LinkFaults;
  const perfect = link(
    PERFECT_LINK.drop,
    PERFECT_LINK.duplicate,
    PERFECT_LINK.delayMinMs,
    PERFECT_LINK.delayMaxMs,
  );
  const cut = link(1, PERFECT_LINK.duplicate, PERFECT_LINK.delayMinMs, PERFECT_LINK.delayMaxMs);
  // Per directed link (from * nodes + to): its spec and what it does with and without a spike,
  // computed once (the simulator only reads the answer).
  const specs: LinkSpec[] = [];
  const plain: LinkFaults[] = [];
  const spiked: LinkFaults[] = [];
  for (let from = 0; from < p.nodes; from++)
    for (let to = 0; to < p.nodes; to++) {
      const spec = p.links.find((l) => l.from === from && l.to === to)?.spec ?? p.link;
      const drop = spec.dropPct / 100;
      const dup = spec.dupPct / 100;
      specs.push(spec);
      plain.push(link(drop, dup, spec.delayMinMs + 0.05, spec.delayMinMs + spec.jitterMs + 0.2));
      spiked.push(link(drop, dup, spec.spikeMs / 2, spec.spikeMs));
    }
  return (from, to, now) => {
    if (now >= p.faultEndMs) return perfect;
    for (const x of p.partitions)
      if (now >= x.from && now < x.until && x.side.includes(from) !== x.side.includes(to))
        return cut;
    const k = from * p.nodes + to;
    const spec = specs[k] as LinkSpec;
    const spike = spec.spikePct > 0 && rng() * 100 < spec.spikePct;
    return (spike ? spiked[k] : plain[k]) as LinkFaults;
  };
}

const FUZZ_KEY = new Uint8Array(32).fill(0x5e);

/** Run a plan in the simulator; returns the history and the final buffers. */
export function runPlan(p: Plan, opts: RunOptions = {}): RunResult {
  const historyMessages = opts.historyMessages ?? FUZZ_HISTORY_MESSAGES;
  const sim = new Sim({
    seed: p.seed,
    hosts: p.nodes,
    ordering: p.mode,
    limits: p.limits,
    faults: { delay: p.user.delayMs / 1000, drop: p.user.dropPct / 100 },
    link: linkFn(p),
    lateStart: p.lateStarts.map((l) => l.node),
    orderFactory: opts.orderFactory,
    tracer: opts.tracer,
    // Every third run seals its datagrams (a fixed key, epochs from the simulated
    // incarnations): the trust layer is fuzzed with the rest and stays reproducible. Runs
    // of a deliberately broken protocol (negative controls) stay plain: the trust layer's
    // own checks would hide some breakage (a frame sealed for an old life never reaches
    // the new one, whatever acceptOldLife says).
    // The cipher is a stand-in (SIM_AEAD: same lengths and checks, no AES-GCM cost).
    trust:
      p.seed % 3 === 1 && !opts.unsafe ? { keys: () => [FUZZ_KEY], aead: SIM_AEAD } : undefined,
    historyMessages,
    // No run reads the fault layer's count of lost entries: no decode per lost datagram.
    countDroppedEntries: false,
    ...(opts.unsafe ? { unsafe: opts.unsafe } : {}),
  });
  // Empty texts: once per node, only in a node that never crashes, in its first life.
  const firstInc = new Array<number>(p.nodes).fill(0);
  const emptyUsed = new Set<NodeId>();
  const crashing = new Set(p.crashes.map((c) => c.node));
  const down = new Set<NodeId>();
  const stopped = new Set<NodeId>();
  let pending =
    p.lateStarts.length + p.crashes.reduce((k, c) => k + (c.restartAt === null ? 1 : 2), 0);
  let k = 0;

  for (const l of p.lateStarts) {
    sim.at(l.at, () => {
      sim.start(l.node);
      pending--;
    });
  }
  for (const s of p.sends) {
    sim.at(s.at, () => {
      const n = sim.node(s.node);
      if (stopped.has(s.node) || !n) return;
      firstInc[s.node] ||= n.incarnation;
      const empty =
        !crashing.has(s.node) && !emptyUsed.has(s.node) && n.incarnation === firstInc[s.node];
      const text = makeText(s.node, k++, s.size, empty);
      if (text === "") emptyUsed.add(s.node);
      sim.send(s.node, text);
    });
  }
  const clean = (v: NodeId): boolean => {
    const n = sim.node(v);
    if (!n) return false;
    for (let q = 0; q < p.nodes; q++) {
      if (q === v || down.has(q)) continue;
      if ((n.peerBuffered(q)?.unacked ?? 0) > 0) return false;
    }
    return true;
  };
  // A node's crashes happen in plan order: the next waits until the previous restart.
  const byNode = new Map<NodeId, Plan["crashes"]>();
  for (const c of p.crashes) byNode.set(c.node, [...(byNode.get(c.node) ?? []), c]);
  for (const [v, list] of byNode) {
    const step = (i: number): void => {
      const c = list[i];
      if (!c) return;
      const poll = (): void => {
        if (!sim.node(v) || (p.crash === "clean" && !clean(v))) {
          sim.at(sim.now + CRASH_POLL_MS, poll);
          return;
        }
        sim.crash(v);
        down.add(v);
        stopped.delete(v);
        pending--;
        if (c.restartAt === null) return;
        sim.at(Math.max(c.restartAt, sim.now), () => {
          sim.start(v);
          down.delete(v);
          pending--;
          step(i + 1);
        });
      };
      sim.at(Math.max(c.at, sim.now), () => {
        stopped.add(v);
        poll();
      });
    };
    step(0);
  }
  for (const x of p.pauses) sim.at(x.from, () => sim.freeze(x.node, x.until - x.from));
  sim.at(p.faultEndMs, () => {
    for (const h of sim.hosts) h.faults.settings = { delay: 0, drop: 0 };
  });

  const finalOf = (): NodeFinal[] => {
    const out: NodeFinal[] = [];
    for (let i = 0; i < p.nodes; i++) {
      const n = sim.node(i);
      if (!n) continue;
      const st = n.status();
      const f: NodeFinal = {
        node: i,
        heldBack: n.buffered().heldBack,
        unackedToLive: 0,
        outOfOrderFromLive: 0,
        retained: n.buffered().retained,
        leader: st.leader,
        term: st.term,
        view: { term: st.view.term, version: st.view.version, members: [...st.view.members] },
      };
      for (let q = 0; q < p.nodes; q++) {
        const b = q !== i && sim.node(q) ? n.peerBuffered(q) : undefined;
        if (!b) continue;
        f.unackedToLive += b.unacked;
        f.outOfOrderFromLive += b.outOfOrder;
      }
      out.push(f);
    }
    return out;
  };
  const lastSend = p.sends.reduce((t, s) => Math.max(t, s.at), 0);
  // Nothing held back, unacknowledged to a live peer, out of order from one or retained, on any
  // live node (finalOf's sums, without building it). Node state changes only through the
  // simulator's steps, so a negative answer holds until the next one.
  let emptyCheckedAt = -1;
  const buffersEmpty = (): boolean => {
    if (sim.changes === emptyCheckedAt) return false;
    emptyCheckedAt = sim.changes;
    for (let i = 0; i < p.nodes; i++) {
      const n = sim.node(i);
      if (!n) continue;
      const b = n.buffered();
      if (b.heldBack + b.retained > 0) return false;
      for (let q = 0; q < p.nodes; q++) {
        const pb = q !== i && sim.node(q) ? n.peerBuffered(q) : undefined;
        if (pb && pb.unacked + pb.outOfOrder > 0) return false;
      }
    }
    return true;
  };
  const settled = (): boolean => pending === 0 && sim.now > lastSend && buffersEmpty();

  // Leader-only services: sample, every LEASE_SAMPLE_MS of virtual time, which nodes lead with
  // a valid lease (the agent runs its command exactly then); two at once is a violation.
  const leaseOverlaps: string[] = [];
  // Per node, until when it leads with a lease (-Infinity: it does not lead), as of the
  // simulator step `leasesAt`: re-read only after a step (time alone changes nothing here).
  const leaseEnd: number[] = new Array<number>(p.nodes).fill(-Infinity);
  let leasesAt = -1;
  /** Holders at the last sample: with no step since, time alone only ends leases. */
  let lastHolding = 0;
  const sampleLeases = (now: number): void => {
    if (sim.changes === leasesAt && lastHolding <= 1) return;
    if (sim.changes !== leasesAt) {
      leasesAt = sim.changes;
      for (let i = 0; i < p.nodes; i++) {
        const st = sim.node(i)?.status();
        leaseEnd[i] = st && st.role === "leader" ? st.leaseUntil : -Infinity;
      }
    }
    let holding = 0;
    for (let i = 0; i < p.nodes; i++) if (now < (leaseEnd[i] as number)) holding++;
    lastHolding = holding;
    if (holding > 1 && leaseOverlaps.length < 5) {
      const holders: number[] = [];
      for (let i = 0; i < p.nodes; i++) if (now < (leaseEnd[i] as number)) holders.push(i);
      leaseOverlaps.push(
        `t=${now.toFixed(1)}: nodes ${holders.join(" and ")} both lead with a valid lease`,
      );
    }
  };
  // A periodic observer, not queue events: the same instants, in the same place among events.
  sim.every(0, LEASE_SAMPLE_MS, sampleLeases);
  // A node that rejoins without end would make the run (and the checkers) crawl: stop it
  // once one node has more lives than a plan can explain; convergence reports it.
  const lives = new Array<number>(p.nodes).fill(0);
  const storm = new Error("rejoin storm");
  const seen = new Array<number>(p.nodes).fill(0);
  sim.onEvent = (node) => {
    const n = sim.node(node);
    if (!n || n.incarnation === seen[node]) return;
    seen[node] = n.incarnation;
    lives[node] = (lives[node] ?? 0) + 1;
    if ((lives[node] ?? 0) > MAX_LIVES_PER_NODE) throw storm;
  };
  let settledAt: number | undefined;
  try {
    sim.run(p.faultEndMs);
    const limit = p.faultEndMs + SETTLE_LIMIT_MS;
    while (sim.now < limit) {
      if (settled()) {
        settledAt = sim.now;
        break;
      }
      sim.run(sim.now + STEP_MS);
    }
    sim.run(sim.now + QUIET_MS);
  } catch (e) {
    if (e !== storm) throw e;
    settledAt = undefined;
  }
  simulated.runs++;
  simulated.virtualMs += sim.now;
  simulated.events += sim.events;

  return {
    trace: {
      nodes: p.nodes,
      events: sim.history,
      final: finalOf(),
      leaseOverlaps,
      historyMessages,
    },
    settledAt,
  };
}
