import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { freePorts, type Proc, startProc, stopAll, tempConfig } from "../helpers/procs.js";

interface Ev {
  event: string;
  epoch?: { term: number; version: number };
  table?: Array<{ name: string; id: number; host: string }>;
  leader?: number | null;
  term?: number;
  state?: string;
}

let procs: Proc[] = [];
afterEach(async () => {
  for (const p of procs) if (p.child.exitCode === null) p.child.kill("SIGCONT");
  await stopAll(procs);
  procs = [];
});

const events = (p: Proc): Ev[] => p.lines.map((l) => JSON.parse(l) as Ev);
const lastTable = (p: Proc): Ev | undefined =>
  events(p)
    .filter((e) => e.event === "table")
    .at(-1);
const key = (e: Ev | undefined): string => JSON.stringify([e?.epoch, e?.table]);

async function start(n: number) {
  const config = tempConfig(await freePorts(n));
  const dir = dirname(config);
  const files = Array.from({ length: n }, (_, i) => join(dir, `hosts${i}`));
  const cuts = Array.from({ length: n }, (_, i) => join(dir, `partition${i}`));
  for (const f of files) writeFileSync(f, "127.0.0.1 localhost\n# a line of the admin's\n");
  procs = files.map((f, i) =>
    startProc(
      [
        "agent",
        String(i),
        "--name",
        "web",
        "--json",
        "--config",
        config,
        "--hosts-file",
        f,
        "--on-leader",
        "exec sleep 60",
        "--grace",
        "1",
        "--log-level",
        "warn",
      ],
      { RMCHAT_PARTITION_FILE: cuts[i] as string },
    ),
  );
  /** Cut `side` off from the rest (both directions, through the fault layer); [] heals. */
  const partition = (side: number[]): void => {
    for (let i = 0; i < n; i++) {
      const other = side.includes(i) ? [...Array(n).keys()].filter((j) => !side.includes(j)) : side;
      writeFileSync(cuts[i] as string, JSON.stringify(side.length === 0 ? [] : other));
    }
  };
  return { files, partition };
}

/** Wait until the given agents report one table of `size` entries whose NAME-0 is the leader they follow. */
async function oneTable(among: number[], size: number, not?: number): Promise<Ev> {
  let table: Ev | undefined;
  const ok = (): boolean => {
    const ts = among.map((i) => lastTable(procs[i] as Proc));
    const first = ts[0];
    if (!first?.table || first.table.length !== size || first.table[0]?.id === not) return false;
    if (!ts.every((t) => key(t) === key(first))) return false;
    const leaders = among.map(
      (i) =>
        events(procs[i] as Proc)
          .filter((e) => e.event === "leader")
          .at(-1)?.leader,
    );
    if (!leaders.every((l) => l === first.table?.[0]?.id)) return false;
    table = first;
    return true;
  };
  await (procs[among[0] as number] as Proc).waitFor(
    ok,
    20_000,
    `agents ${among.join(",")} to agree on a table of ${size}`,
  );
  return table as Ev;
}

const starts = (i: number): number =>
  events(procs[i] as Proc).filter((e) => e.event === "command" && e.state === "started").length;

describe("rmchat agent with real processes", () => {
  it("5 agents converge to one table and identical hosts files; kill -9 of the leader renumbers and moves the command", async () => {
    const { files } = await start(5);
    const t = await oneTable([0, 1, 2, 3, 4], 5);
    expect(t.table?.map((e) => e.name)).toEqual(["web-0", "web-1", "web-2", "web-3", "web-4"]);
    const leader = t.table?.[0]?.id as number;
    const blocks = files.map((f) => readFileSync(f, "utf8"));
    for (const b of blocks) expect(b).toBe(blocks[0]); // written before the table event
    expect(blocks[0]).toContain("# a line of the admin's");
    expect(blocks[0]).toMatch(new RegExp(`127\\.0\\.0\\.1 web-0  # node ${leader}`));
    await (procs[leader] as Proc).waitFor(
      () => starts(leader) >= 1,
      10_000,
      "the leader to start its command",
    );
    for (let i = 0; i < 5; i++) if (i !== leader) expect(starts(i)).toBe(0);

    procs[leader]?.child.kill("SIGKILL");
    const survivors = [0, 1, 2, 3, 4].filter((i) => i !== leader);
    const t2 = await oneTable(survivors, 4, leader);
    expect(t2.table?.map((e) => e.name)).toEqual(["web-0", "web-1", "web-2", "web-3"]);
    const next = t2.table?.[0]?.id as number;
    await (procs[next] as Proc).waitFor(
      () => starts(next) >= 1,
      10_000,
      "the new leader to start the command",
    );
    for (const i of survivors) if (i !== next) expect(starts(i)).toBe(0);

    // kill -9 of a follower: renumbered without gaps.
    const follower = t2.table?.[2]?.id as number;
    follower !== undefined && procs[follower]?.child.kill("SIGKILL");
    const rest = survivors.filter((i) => i !== follower);
    const t3 = await oneTable(rest, 3);
    expect(t3.table?.map((e) => e.name)).toEqual(["web-0", "web-1", "web-2"]);
    expect(t3.table?.map((e) => e.id)).not.toContain(follower);
    for (const i of rest)
      expect(readFileSync(files[i] as string, "utf8")).toContain(`# node ${t3.table?.[0]?.id}`);
  });

  it("SIGSTOP of the leader: a new leader starts the command; on SIGCONT the old one stops it at once", async () => {
    await start(3);
    const t = await oneTable([0, 1, 2], 3);
    const leader = t.table?.[0]?.id as number;
    await (procs[leader] as Proc).waitFor(
      () => starts(leader) >= 1,
      10_000,
      "the leader to start its command",
    );
    procs[leader]?.child.kill("SIGSTOP");
    const others = [0, 1, 2].filter((i) => i !== leader);
    const t2 = await oneTable(others, 2, leader);
    const next = t2.table?.[0]?.id as number;
    await (procs[next] as Proc).waitFor(
      () => starts(next) >= 1,
      10_000,
      "the new leader to start the command",
    );
    const woke = Date.now();
    procs[leader]?.child.kill("SIGCONT");
    await (procs[leader] as Proc).waitFor(
      () =>
        events(procs[leader] as Proc).some((e) => e.event === "command" && e.state === "stopped"),
      10_000,
      "the old leader to stop its command",
    );
    // "At once": no assertion on speed in CI; the figure goes to the closing note.
    process.stderr.write(`old leader stopped its command ${Date.now() - woke} ms after SIGCONT\n`);
    await oneTable([0, 1, 2], 3);
    expect(starts(leader)).toBe(1);
  });

  it("a partition of 2 from 3: the 3-side keeps a leader and the command, the 2-side has neither; healed, one table", async () => {
    const { partition } = await start(5);
    const t = await oneTable([0, 1, 2, 3, 4], 5);
    const leader = t.table?.[0]?.id as number;
    await (procs[leader] as Proc).waitFor(
      () => starts(leader) >= 1,
      10_000,
      "the leader to start its command",
    );
    // The current leader goes to the minority side, with one other node.
    const minority = [leader, (leader + 1) % 5];
    const majority = [0, 1, 2, 3, 4].filter((i) => !minority.includes(i));
    partition(minority);
    const t2 = await oneTable(majority, 3, leader);
    const next = t2.table?.[0]?.id as number;
    await (procs[next] as Proc).waitFor(
      () => starts(next) >= 1,
      10_000,
      "the majority's leader to start the command",
    );
    const lastLeader = (i: number) =>
      events(procs[i] as Proc)
        .filter((e) => e.event === "leader")
        .at(-1)?.leader;
    await (procs[leader] as Proc).waitFor(
      () =>
        minority.every((i) => lastLeader(i) === null) &&
        events(procs[leader] as Proc).some((e) => e.event === "command" && e.state === "stopped"),
      15_000,
      "the minority to have no leader and the old leader to stop its command",
    );
    for (const i of minority)
      expect(
        events(procs[i] as Proc)
          .filter((e) => e.event === "command")
          .at(-1)?.state,
      ).not.toBe("started");
    partition([]);
    const t3 = await oneTable([0, 1, 2, 3, 4], 5);
    expect(t3.table?.[0]?.id).toBe(next);
  });
});
