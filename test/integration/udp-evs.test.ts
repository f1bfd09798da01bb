import { afterEach, describe, expect, it } from "vitest";
import type { Ordering } from "../../src/core/types.js";
import { freePorts, type Proc, startProc, stopAll, tempConfig } from "../helpers/procs.js";

/**
 * View synchrony with real processes: 5 nodes, a burst from every node, SIGKILL of a sender
 * mid-burst and of the leader, a restart of each. Then every live process has delivered the
 * same set of messages, each exactly once, in an order valid for the mode, and the restarted
 * processes received the group's past as history before their own view.
 */

interface Ev {
  event: string;
  from?: number;
  seq?: number;
  text?: string;
  order?: number;
  history?: boolean;
  leader?: number | null;
  term?: number;
  members?: number[];
}

const N = 5;
const BURST = 40;
let procs: Proc[] = [];
afterEach(async () => {
  await stopAll(procs);
  procs = [];
});

const events = (p: Proc): Ev[] =>
  p.lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Ev);
const deliveries = (p: Proc): Ev[] => events(p).filter((e) => e.event === "deliver");
const lastView = (p: Proc): number[] | undefined =>
  events(p)
    .filter((e) => e.event === "view")
    .at(-1)?.members;
const leaderOf = (p: Proc): number | null | undefined =>
  events(p)
    .filter((e) => e.event === "leader")
    .at(-1)?.leader;

function start(cfg: string, id: number): Proc {
  const p = startProc([String(id), "--config", cfg, "--plain", "--json"]);
  procs[id] = p;
  return p;
}

async function allInView(ids: number[], ms: number): Promise<void> {
  await Promise.all(
    ids.map((i) =>
      (procs[i] as Proc).waitFor(
        (_l) => (lastView(procs[i] as Proc)?.length ?? 0) === N,
        ms,
        `node ${i} in a view of all ${N}`,
      ),
    ),
  );
}

async function run(mode: Ordering): Promise<void> {
  const ports = await freePorts(N);
  const cfg = tempConfig(ports, { ordering: mode });
  for (let i = 0; i < N; i++) start(cfg, i);
  const all = [...Array(N).keys()];
  await allInView(all, 30_000);
  // A member may install a view before it hears who leads: wait for the leader's name.
  const p0 = procs[0] as Proc;
  await p0.waitFor(() => typeof leaderOf(p0) === "number", 30_000, "node 0 to know the leader");
  const leader = leaderOf(p0) as number;
  const sender = (leader + 2) % N;
  // A burst from every node.
  for (const i of all) {
    const lines = Array.from({ length: BURST }, (_, k) => `${i}:${k}`).join("\n");
    (procs[i] as Proc).child.stdin.write(`${lines}\n`);
  }
  // SIGKILL a sender mid-burst (after a few of its own messages went out), then the leader.
  const s = procs[sender] as Proc;
  await s.waitFor(
    () => deliveries(s).filter((d) => d.from === sender).length >= 5,
    30_000,
    "the sender's first messages",
  );
  s.child.kill("SIGKILL");
  await s.exit;
  const l = procs[leader] as Proc;
  await l.waitFor(() => deliveries(l).length >= BURST, 30_000, "the leader mid-burst");
  l.child.kill("SIGKILL");
  await l.exit;
  // New lives of both.
  const victims = [sender, leader];
  for (const v of victims) start(cfg, v);
  await allInView(all, 60_000);
  for (const v of victims) (procs[v] as Proc).child.stdin.write(`back-${v}\n`);
  // Every live process gets the survivors' bursts and the new lives' messages.
  const survivors = all.filter((i) => !victims.includes(i));
  const must = [
    ...survivors.flatMap((i) => Array.from({ length: BURST }, (_, k) => `${i}:${k}`)),
    ...victims.map((v) => `back-${v}`),
  ];
  await Promise.all(
    all.map((i) =>
      (procs[i] as Proc).waitFor(
        () => {
          const got = new Set(deliveries(procs[i] as Proc).map((d) => d.text));
          return must.every((t) => got.has(t));
        },
        90_000,
        `node ${i} to deliver everything`,
      ),
    ),
  );
  // Let stragglers arrive, then compare.
  await new Promise((r) => setTimeout(r, 1000));
  const sets = all.map((i) => deliveries(procs[i] as Proc).map((d) => d.text as string));
  for (const [i, texts] of sets.entries()) {
    // Exactly once per process (this life), history included.
    expect(new Set(texts).size, `node ${i} delivered something twice`).toBe(texts.length);
    // FIFO: each sender's burst in the order sent.
    for (const j of all) {
      const ks = texts.filter((t) => t.startsWith(`${j}:`)).map((t) => Number(t.split(":")[1]));
      expect(ks, `node ${i}: sender ${j} out of order`).toEqual([...ks].sort((a, b) => a - b));
    }
  }
  // The same set everywhere: what a dead sender got out to anyone, everyone has.
  const ref = [...(sets[0] as string[])].sort();
  for (const texts of sets) expect([...texts].sort()).toEqual(ref);
  if (mode === "total") {
    const order = (sets[survivors[0] as number] as string[]).join("\n");
    for (const texts of sets) expect(texts.join("\n")).toBe(order);
  }
  // The new lives got the past as history, before anything live.
  for (const v of victims) {
    const d = deliveries(procs[v] as Proc);
    const firstLive = d.findIndex((e) => !e.history);
    expect(d.filter((e) => e.history).length).toBeGreaterThan(0);
    expect(d.slice(firstLive).some((e) => e.history)).toBe(false);
  }
}

describe("view synchrony with real processes (5 nodes, kill -9 of a sender and the leader, restarts)", () => {
  for (const mode of ["fifo", "causal", "total"] as const) {
    it(`${mode}: every live process delivers the same messages once, in order; new lives get history`, async () => {
      await run(mode);
    });
  }
});
