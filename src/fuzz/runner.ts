import type { UnsafeKnobs } from "../core/node-types.js";
import type { OrderFactory } from "../core/order/index.js";
import type { NodeId } from "../core/types.js";
import { seededRng } from "../runtime/rng.js";
import { type LinkFaults, PERFECT_LINK, Sim } from "../runtime/sim.js";
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

export interface RunOptions {
  orderFactory?: OrderFactory;
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

/**
 * A unique text of `size` code points (at least its tag). Empty only when `mayBeEmpty`: the
 * runner allows it once per node, in a node that never crashes and has not rejoined, so
 * (sender, seq, text) still tells every message apart.
 */
export function makeText(node: NodeId, k: number, size: number, mayBeEmpty: boolean): string {
  if (size === 0 && mayBeEmpty) return "";
  const parts = [`n${node}.${k}|`];
  for (let i = parts[0]?.length ?? 0; i < size; i++) parts.push(FILL[(k + i) % FILL.length] ?? "");
  return parts.join("");
}

function linkFn(p: Plan): (from: NodeId, to: NodeId, now: number) => LinkFaults {
  const rng = seededRng(p.seed ^ 0x5bd1e995);
  const blocked = (a: NodeId, b: NodeId, now: number): boolean =>
    p.partitions.some(
      (x) => now >= x.from && now < x.until && x.side.includes(a) !== x.side.includes(b),
    );
  return (from, to, now) => {
    if (now >= p.faultEndMs) return PERFECT_LINK;
    if (blocked(from, to, now)) return { ...PERFECT_LINK, drop: 1 };
    const spec: LinkSpec = p.links.find((l) => l.from === from && l.to === to)?.spec ?? p.link;
    const spike = spec.spikePct > 0 && rng() * 100 < spec.spikePct;
    return {
      drop: spec.dropPct / 100,
      duplicate: spec.dupPct / 100,
      delayMinMs: spike ? spec.spikeMs / 2 : spec.delayMinMs + 0.05,
      delayMaxMs: spike ? spec.spikeMs : spec.delayMinMs + spec.jitterMs + 0.2,
    };
  };
}

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
    historyMessages,
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
  const settled = (): boolean =>
    pending === 0 &&
    sim.now > lastSend &&
    finalOf().every((f) => f.heldBack + f.unackedToLive + f.outOfOrderFromLive + f.retained === 0);

  // Leader-only services: sample, every LEASE_SAMPLE_MS of virtual time, which nodes lead with
  // a valid lease (the agent runs its command exactly then); two at once is a violation.
  const leaseOverlaps: string[] = [];
  const sampleLeases = (): void => {
    const holders: number[] = [];
    for (let i = 0; i < p.nodes; i++) {
      const st = sim.node(i)?.status();
      if (st && st.role === "leader" && sim.now < st.leaseUntil) holders.push(i);
    }
    if (holders.length > 1 && leaseOverlaps.length < 5) {
      leaseOverlaps.push(
        `t=${sim.now.toFixed(1)}: nodes ${holders.join(" and ")} both lead with a valid lease`,
      );
    }
    sim.at(sim.now + LEASE_SAMPLE_MS, sampleLeases);
  };
  sim.at(0, sampleLeases);
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
