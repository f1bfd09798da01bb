import type { OrderFactory } from "../core/order/index.js";
import type { NodeId } from "../core/types.js";
import { seededRng } from "../runtime/rng.js";
import { type LinkFaults, PERFECT_LINK, Sim } from "../runtime/sim.js";
import type { LinkSpec, Plan } from "./scenario.js";
import type { LearnEvent, NodeFinal, Trace, TraceEvent } from "./trace.js";

/** Virtual time the network must stay quiet before the final state is taken, ms. */
const QUIET_MS = 3000;
/** Give up waiting for quiescence this long after the faults stopped, ms (virtual). */
const SETTLE_LIMIT_MS = 120_000;
const STEP_MS = 10;
/** How often a pending clean crash looks whether its victim's messages are all acknowledged. */
const CRASH_POLL_MS = 5;
/** How often the lease-overlap sampler looks, ms of virtual time. */
const LEASE_SAMPLE_MS = 5;

export interface RunOptions {
  orderFactory?: OrderFactory;
}

export interface RunResult {
  trace: Trace;
  /** Virtual time at which the run settled, or undefined when it never did. */
  settledAt: number | undefined;
}

/** Filler, as code points: some take 2, 3 and 4 bytes in UTF-8 (and 2 UTF-16 units). */
const FILL = [..."abcdefghijklmnopqrstuvwxyz0123456789 éß€😀"];

/**
 * A unique text of `size` code points (at least its tag). Empty only on a node's first
 * life, where (sender, seq) still tells it apart from every other message.
 */
export function makeText(node: NodeId, k: number, size: number, firstLife: boolean): string {
  if (size === 0 && firstLife) return "";
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

const FUZZ_KEY = new Uint8Array(32).fill(0x5e);

/** Run a plan in the simulator; returns the history (with learn events) and final buffers. */
export function runPlan(p: Plan, opts: RunOptions = {}): RunResult {
  const sim = new Sim({
    seed: p.seed,
    hosts: p.nodes,
    ordering: p.mode,
    limits: p.limits,
    faults: { delay: p.user.delayMs / 1000, drop: p.user.dropPct / 100 },
    link: linkFn(p),
    lateStart: p.lateStarts.map((l) => l.node),
    orderFactory: opts.orderFactory,
    // Every third run seals its datagrams (a fixed key, epochs from the simulated
    // incarnations): the trust layer is fuzzed with the rest and stays reproducible.
    trust: p.seed % 3 === 1 ? { keys: () => [FUZZ_KEY] } : undefined,
  });
  const learns: Array<{ at: number; ev: LearnEvent }> = [];
  sim.onEvent = (node, ev) => {
    const n = sim.node(node);
    if (ev.type !== "peer" || !n) return;
    const le: LearnEvent = {
      kind: "learn",
      t: sim.now,
      node,
      inc: n.incarnation,
      peer: ev.peer,
      peerInc: ev.incarnation,
    };
    learns.push({ at: sim.history.length, ev: le });
  };
  const down = new Set<NodeId>();
  const stopped = new Set<NodeId>();
  let pending =
    p.lateStarts.length + p.crashes.reduce((k, c) => k + (c.restartAt === null ? 1 : 2), 0);
  const crashed = new Set<NodeId>();
  let k = 0;

  for (const l of p.lateStarts) {
    sim.at(l.at, () => {
      sim.start(l.node);
      pending--;
    });
  }
  for (const s of p.sends) {
    sim.at(s.at, () => {
      if (stopped.has(s.node) || !sim.node(s.node)) return;
      sim.send(s.node, makeText(s.node, k++, s.size, !crashed.has(s.node)));
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
        crashed.add(v);
        pending--;
        if (c.restartAt === null) return;
        sim.at(Math.max(c.restartAt, sim.now + 1), () => {
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
  sim.run(p.faultEndMs);
  const limit = p.faultEndMs + SETTLE_LIMIT_MS;
  let settledAt: number | undefined;
  while (sim.now < limit) {
    if (settled()) {
      settledAt = sim.now;
      break;
    }
    sim.run(sim.now + STEP_MS);
  }
  sim.run(sim.now + QUIET_MS);

  const events: TraceEvent[] = [];
  let j = 0;
  sim.history.forEach((e, i) => {
    while (j < learns.length && (learns[j]?.at ?? 0) <= i)
      events.push((learns[j++] as { ev: LearnEvent }).ev);
    events.push(e);
  });
  while (j < learns.length) events.push((learns[j++] as { ev: LearnEvent }).ev);
  return { trace: { nodes: p.nodes, events, final: finalOf(), leaseOverlaps }, settledAt };
}
