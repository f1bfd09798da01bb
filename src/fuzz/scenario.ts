import fc from "fast-check";
import type { NodeId, Ordering } from "../core/types.js";

/**
 * A fuzz scenario: the fault schedule and send schedule of one simulated run. Node
 * references are generated in 0..6 and taken modulo `nodes` by `normalize`, and times as
 * per-mille of `faultEndMs`, so fast-check can shrink every field independently.
 */
export interface LinkSpec {
  /** Percent of datagrams dropped (0..50). */
  dropPct: number;
  /** Percent of datagrams duplicated (duplicates arrive with their own delay: reordering). */
  dupPct: number;
  delayMinMs: number;
  /** Uniform delay in [delayMinMs, delayMinMs + jitterMs]. */
  jitterMs: number;
  /** Percent of datagrams that take a long detour of up to spikeMs (heavy tail, reordering). */
  spikePct: number;
  spikeMs: number;
}

export type SendGroup =
  | { kind: "burst"; at: number; node: number; count: number; gapMs: number; size: number }
  | { kind: "all"; at: number; size: number };

export interface Scenario {
  nodes: number;
  seed: number;
  limits: { window: number; maxBacklog: number; maxDatagram: number };
  /** The user-level fault layer of every node (`rmchat <id> <delay> <drop>`). */
  user: { delayMs: number; dropPct: number };
  link: LinkSpec;
  /** Links with their own behaviour. */
  links: Array<{ from: number; to: number; spec: LinkSpec }>;
  /** Faults stop here: links perfect, user faults off, partitions healed. */
  faultEndMs: number;
  sends: SendGroup[];
  partitions: Array<{ at: number; lengthMs: number; side: number[] }>;
  lateStarts: Array<{ node: number; at: number }>;
  crashes: Array<{ node: number; at: number; restartAfterMs: number | null }>;
  /**
   * Process pauses (SIGSTOP, a long GC, a starved VM): the node handles nothing for
   * `lengthMs`, then everything that arrived meanwhile. Absent in scenarios recorded before
   * pauses were part of the model (regressions.json): none.
   */
  pauses?: Array<{ node: number; at: number; lengthMs: number }>;
}

/**
 * abrupt (the default): the victim crashes at its crash time, possibly mid-send, like a
 * SIGKILL. clean: it stops sending at its crash time and crashes once every peer that is up
 * (or yet to start) has acknowledged all its messages — a softer model, kept as an option.
 */
export type CrashStyle = "clean" | "abrupt";

export interface FuzzOptions {
  crash: CrashStyle;
}

export const DEFAULT_FUZZ: FuzzOptions = { crash: "abrupt" };

/** The scenario after normalisation: real node ids, absolute times, mode rules applied. */
export interface Plan {
  mode: Ordering;
  crash: CrashStyle;
  nodes: number;
  seed: number;
  limits: Scenario["limits"];
  user: Scenario["user"];
  link: LinkSpec;
  links: Array<{ from: NodeId; to: NodeId; spec: LinkSpec }>;
  faultEndMs: number;
  groups: SendGroup[];
  sends: Array<{ at: number; node: NodeId; size: number }>;
  partitions: Array<{ from: number; until: number; side: NodeId[] }>;
  lateStarts: Array<{ node: NodeId; at: number }>;
  crashes: Array<{ node: NodeId; at: number; restartAt: number | null }>;
  pauses: Array<{ node: NodeId; from: number; until: number }>;
}

const MAX_NODES = 7;
const nodeRef = fc.integer({ min: 0, max: MAX_NODES - 1 });
const permille = fc.integer({ min: 0, max: 1000 });

const linkSpec: fc.Arbitrary<LinkSpec> = fc.record({
  dropPct: fc.integer({ min: 0, max: 50 }),
  dupPct: fc.integer({ min: 0, max: 20 }),
  delayMinMs: fc.integer({ min: 0, max: 20 }),
  jitterMs: fc.integer({ min: 0, max: 50 }),
  spikePct: fc.integer({ min: 0, max: 10 }),
  spikeMs: fc.integer({ min: 50, max: 1500 }),
});

/** From empty to many fragments (fragments are 64 to 748 bytes, depending on maxDatagram). */
const size = fc.oneof(
  { weight: 1, arbitrary: fc.constant(0) },
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 64 }) },
  { weight: 2, arbitrary: fc.integer({ min: 65, max: 1500 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1501, max: 5000 }) },
);

const sendGroup: fc.Arbitrary<SendGroup> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("burst" as const),
      at: permille,
      node: nodeRef,
      count: fc.integer({ min: 1, max: 20 }),
      gapMs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 200 })),
      size,
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("all" as const), at: permille, size }) },
);

/** The full fault model, the same in every mode. */
export function scenarioArb(_mode?: Ordering): fc.Arbitrary<Scenario> {
  return fc.record({
    nodes: fc.integer({ min: 2, max: MAX_NODES }),
    seed: fc.integer({ min: 0, max: 0x7fffffff }),
    limits: fc.record({
      window: fc.constantFrom(1024, 1, 2, 4, 16),
      maxBacklog: fc.constantFrom(100_000, 8, 64, 512),
      maxDatagram: fc.constantFrom(1400, 300, 1000),
    }),
    user: fc.record({
      delayMs: fc.integer({ min: 0, max: 20 }),
      dropPct: fc.integer({ min: 0, max: 30 }),
    }),
    link: linkSpec,
    links: fc.array(fc.record({ from: nodeRef, to: nodeRef, spec: linkSpec }), { maxLength: 4 }),
    faultEndMs: fc.integer({ min: 100, max: 4000 }),
    sends: fc.array(sendGroup, { minLength: 1, maxLength: 8 }),
    partitions: fc.array(
      fc.record({
        at: permille,
        lengthMs: fc.integer({ min: 10, max: 2000 }),
        side: fc.uniqueArray(nodeRef, { minLength: 1, maxLength: 3 }),
      }),
      { maxLength: 3 },
    ),
    lateStarts: fc.array(fc.record({ node: nodeRef, at: permille }), { maxLength: 2 }),
    crashes: fc.array(
      fc.record({
        node: nodeRef,
        at: permille,
        // Restart at any later instant: at once, before or after failure detection.
        restartAfterMs: fc.option(
          fc.oneof(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 3000 })),
          { freq: 3 },
        ),
      }),
      { maxLength: 3 },
    ),
    pauses: fc.array(
      fc.record({ node: nodeRef, at: permille, lengthMs: fc.integer({ min: 10, max: 2500 }) }),
      { maxLength: 2 },
    ),
  });
}

/** Apply node counts and mode rules; the result is what actually runs (and what is printed). */
export function normalize(mode: Ordering, s: Scenario, opt: FuzzOptions = DEFAULT_FUZZ): Plan {
  const n = s.nodes;
  const time = (pm: number): number => Math.round((pm * s.faultEndMs) / 1000);
  const groups = s.sends.map((g) =>
    g.kind === "all" ? { ...g, at: time(g.at) } : { ...g, at: time(g.at), node: g.node % n },
  );
  const sends: Plan["sends"] = [];
  for (const g of groups) {
    if (g.kind === "all")
      for (let i = 0; i < n; i++) sends.push({ at: g.at, node: i, size: g.size });
    else
      for (let k = 0; k < g.count; k++)
        sends.push({ at: g.at + k * g.gapMs, node: g.node, size: g.size });
  }
  sends.sort((x, y) => x.at - y.at);
  const partitions: Plan["partitions"] = [];
  for (const p of s.partitions) {
    const side = [...new Set(p.side.map((x) => x % n))].sort((x, y) => x - y);
    if (side.length === n) continue;
    const from = time(p.at);
    partitions.push({ from, until: Math.min(s.faultEndMs, from + p.lengthMs), side });
  }
  const lateStarts: Plan["lateStarts"] = [];
  for (const l of s.lateStarts) {
    const node = l.node % n;
    if (!lateStarts.some((x) => x.node === node)) lateStarts.push({ node, at: time(l.at) });
  }
  const crashes: Plan["crashes"] = [];
  for (const c of s.crashes) {
    const node = c.node % n;
    // A node crashes again only after a restart.
    if (crashes.some((x) => x.node === node && x.restartAt === null)) continue;
    const at = time(c.at);
    // Any mode, any later instant (the runner keeps it after the crash itself).
    const restartAt = c.restartAfterMs === null ? null : at + c.restartAfterMs;
    const gone = new Set(crashes.filter((x) => x.restartAt === null).map((x) => x.node));
    // Stated scope: a quorum (majority) stays up for good, so that a leader and views exist
    // after the faults (total order and views need a majority). Every other fault is allowed.
    if (restartAt === null && gone.size >= n - (Math.floor(n / 2) + 1)) continue;
    crashes.push({ node, at, restartAt });
  }
  // Pauses are faults: they end when the faults do.
  const pauses: Plan["pauses"] = (s.pauses ?? []).map((x) => {
    const from = time(x.at);
    return { node: x.node % n, from, until: Math.min(s.faultEndMs, from + x.lengthMs) };
  });
  const links = s.links
    .map((l) => ({ from: l.from % n, to: l.to % n, spec: l.spec }))
    .filter((l) => l.from !== l.to);
  return {
    mode,
    crash: opt.crash,
    nodes: n,
    seed: s.seed,
    limits: s.limits,
    user: s.user,
    link: s.link,
    links,
    faultEndMs: s.faultEndMs,
    groups,
    sends,
    partitions,
    lateStarts,
    crashes,
    pauses,
  };
}

const showLink = (l: LinkSpec): string =>
  `drop ${l.dropPct}%, dup ${l.dupPct}%, delay ${l.delayMinMs}..${l.delayMinMs + l.jitterMs} ms` +
  (l.spikePct > 0 ? `, ${l.spikePct}% spikes up to ${l.spikeMs} ms` : "");

/** The plan in readable form, one fact a line. */
export function describePlan(p: Plan): string {
  const lines = [
    `mode ${p.mode}, ${p.nodes} nodes, sim seed ${p.seed}, crash style ${p.crash}`,
    `limits: window ${p.limits.window}, maxBacklog ${p.limits.maxBacklog}, maxDatagram ${p.limits.maxDatagram}`,
    `user faults: delay ${p.user.delayMs} ms mean, drop ${p.user.dropPct}%`,
    `links: ${showLink(p.link)}`,
    ...p.links.map((l) => `link ${l.from}->${l.to}: ${showLink(l.spec)}`),
    `faults stop at t=${p.faultEndMs} ms (texts: a unique tag "n<node>.<k>|", padded to the size)`,
    ...p.groups.map((g) =>
      g.kind === "all"
        ? `t=${g.at}: every node sends ${g.size} chars`
        : `t=${g.at}: node ${g.node} sends ${g.count} x ${g.size} chars, one every ${g.gapMs} ms`,
    ),
    ...p.partitions.map((x) => `t=${x.from}..${x.until}: partition {${x.side.join(",")}} | rest`),
    ...p.lateStarts.map((l) => `t=${l.at}: node ${l.node} starts (late)`),
    ...p.crashes.map(
      (c) =>
        `t>=${c.at}: node ${c.node} crashes` +
        (c.restartAt === null ? "" : `, restarts at t>=${c.restartAt}`),
    ),
    ...p.pauses.map((x) => `t=${x.from}..${x.until}: node ${x.node} paused`),
  ];
  return lines.join("\n");
}
