import { afterEach, describe, expect, it } from "vitest";
import { freePorts, type Proc, startProc, stopAll, tempConfig } from "../helpers/procs.js";

interface Ev {
  event: string;
  from?: number;
  seq?: number;
  text?: string;
  order?: number;
  leader?: number | null;
  term?: number;
}

let procs: Proc[] = [];
afterEach(async () => {
  for (const p of procs)
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGCONT");
  await stopAll(procs);
  procs = [];
});

const events = (p: Proc): Ev[] => p.lines.map((l) => JSON.parse(l) as Ev);
const leaderOf = (p: Proc): { leader: number | null; term: number } | undefined => {
  const ls = events(p).filter((e) => e.event === "leader");
  const l = ls[ls.length - 1];
  return l ? { leader: l.leader ?? null, term: l.term ?? 0 } : undefined;
};
/** Every node that ever reported itself leader of a term: at most one per term. */
function selfClaims(ps: Proc[]): Map<number, Set<number>> {
  const m = new Map<number, Set<number>>();
  ps.forEach((p, i) => {
    for (const e of events(p)) {
      if (e.event !== "leader" || e.leader !== i) continue;
      const t = e.term ?? 0;
      if (!m.has(t)) m.set(t, new Set());
      m.get(t)?.add(i);
    }
  });
  return m;
}

async function agreedLeader(
  ps: Proc[],
  among: number[],
  ms: number,
  not?: number,
): Promise<number> {
  let found = -1;
  await Promise.all(
    among.map((i) =>
      (ps[i] as Proc).waitFor(
        () => {
          const ls = among.map((j) => leaderOf(ps[j] as Proc));
          const first = ls[0];
          const ok =
            first?.leader != null &&
            first.leader !== not &&
            ls.every((l) => l?.leader === first.leader && l?.term === first.term);
          if (ok) found = first?.leader as number;
          return ok;
        },
        ms,
        `nodes ${among.join(",")} to agree on a leader`,
      ),
    ),
  );
  return found;
}

describe("leader failover with real processes (total order)", () => {
  it("kill -9 of the leader while the others send: a new leader, every live sender's message delivered in one order", async () => {
    const N = 5;
    const config = tempConfig(await freePorts(N), { ordering: "total" });
    procs = Array.from({ length: N }, (_, i) =>
      startProc([String(i), "--json", "--config", config, "--log-level", "warn"]),
    );
    const first = await agreedLeader(procs, [0, 1, 2, 3, 4], 20_000);
    const live = [0, 1, 2, 3, 4].filter((i) => i !== first);
    const PER = 30;
    for (let k = 1; k <= PER; k++) {
      for (const i of live) procs[i]?.child.stdin.write(`n${i}-${k}\n`);
      if (k === 10) procs[first]?.child.kill("SIGKILL");
      await new Promise((r) => setTimeout(r, 20));
    }
    const second = await agreedLeader(procs, live, 20_000, first);
    expect(second).not.toBe(first);
    const want = live.length * PER;
    await Promise.all(
      live.map((i) =>
        procs[i]?.waitFor(
          () =>
            events(procs[i] as Proc).filter((e) => e.event === "deliver" && e.from !== first)
              .length >= want,
          60_000,
          `node ${i} to deliver all ${want} messages of live senders`,
        ),
      ),
    );
    const seqs = live.map((i) =>
      events(procs[i] as Proc)
        .filter((e) => e.event === "deliver")
        .map((e) => `${e.from}:${e.seq}@${e.order}`),
    );
    for (const s of seqs) expect(s).toEqual(seqs[0]);
    expect(new Set(seqs[0]).size).toBe(seqs[0]?.length);
    for (const [, c] of selfClaims(procs)) expect(c.size).toBe(1);
  });

  it("SIGSTOP the leader: the others elect; on SIGCONT it steps down and rejoins; one leader per term", async () => {
    const N = 3;
    const config = tempConfig(await freePorts(N), { ordering: "total" });
    procs = Array.from({ length: N }, (_, i) =>
      startProc([String(i), "--json", "--config", config, "--log-level", "warn"]),
    );
    const first = await agreedLeader(procs, [0, 1, 2], 20_000);
    const others = [0, 1, 2].filter((i) => i !== first);
    procs[first]?.child.kill("SIGSTOP");
    const second = await agreedLeader(procs, others, 20_000, first);
    procs[others[0] as number]?.child.stdin.write("while it slept\n");
    await new Promise((r) => setTimeout(r, 1000));
    procs[first]?.child.kill("SIGCONT");
    // It steps down at once, follows the new leader, and catches up.
    await agreedLeader(procs, [0, 1, 2], 20_000);
    expect(leaderOf(procs[first] as Proc)?.leader).toBe(second);
    await procs[first]?.waitFor(
      () =>
        events(procs[first] as Proc).some(
          (e) => e.event === "deliver" && e.text === "while it slept",
        ),
      20_000,
      "the woken node to deliver what was sent while it slept",
    );
    for (const [, c] of selfClaims(procs)) expect(c.size).toBe(1);
  });
});
