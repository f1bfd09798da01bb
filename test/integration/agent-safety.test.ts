import { spawn } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { CommandObserver } from "../helpers/observer.js";
import { freePorts, type Proc, startProc, stopAll, tempConfig } from "../helpers/procs.js";

interface Ev {
  event: string;
  state?: string;
  leader?: number | null;
  table?: Array<{ id: number }>;
}

let procs: Proc[] = [];
let observer: CommandObserver | undefined;
afterEach(async () => {
  observer?.stop();
  for (const p of procs) if (p.child.exitCode === null) p.child.kill("SIGCONT");
  await stopAll(procs);
  procs = [];
});

const report = (obs: CommandObserver): void => {
  process.stderr.write(
    `observer: ${obs.samples} samples, at most ${obs.maxAlive} command(s) alive at once, commands seen on nodes ${obs.seen.join(",")}\n`,
  );
};
const events = (p: Proc): Ev[] => p.lines.map((l) => JSON.parse(l) as Ev);
const marker = (): string => `7${Math.floor(10_000 + Math.random() * 89_999)}`;

/** Three agents whose leader-only command ignores SIGTERM; an observer samples which run. */
async function cluster(grace = 1): Promise<CommandObserver> {
  const config = tempConfig(await freePorts(3));
  const obs = new CommandObserver(marker());
  observer = obs;
  procs = [0, 1, 2].map((i) =>
    startProc([
      "agent",
      String(i),
      "--name",
      "web",
      "--json",
      "--config",
      config,
      "--on-leader",
      obs.command(),
      "--grace",
      String(grace),
      "--log-level",
      "warn",
    ]),
  );
  obs.start();
  return obs;
}

/** Wait until exactly one command runs and return its node id (sampled). */
async function oneRunning(obs: CommandObserver, not?: string): Promise<number> {
  let id: string | undefined;
  await (procs[0] as Proc).waitFor(
    () => {
      const a = obs.sample();
      id = a.length === 1 && a[0] !== not ? a[0] : undefined;
      return id !== undefined;
    },
    30_000,
    `one leader command running${not === undefined ? "" : ` on a node other than ${not}`}`,
  );
  // …and its agent has read the watchdog's report of it (nothing of it is left in the pipe).
  const agent = procs[Number(id)] as Proc;
  await agent.waitFor(
    () => events(agent).some((e) => e.event === "command" && e.state === "started"),
    30_000,
    `agent ${id} to report its command started`,
  );
  return Number(id);
}

describe("never two leader commands (outside observer)", () => {
  it("the observer counts two when two run (negative control)", async () => {
    const obs = new CommandObserver(marker());
    const a = spawn("/bin/sh", ["-c", `exec sleep ${obs.marker}0`]);
    const b = spawn("/bin/sh", ["-c", `exec sleep ${obs.marker}1`]);
    try {
      await new Promise((r) => setTimeout(r, 200));
      obs.sample();
      expect(obs.maxAlive).toBe(2);
      expect(obs.overlaps.length).toBe(1);
    } finally {
      a.kill("SIGKILL");
      b.kill("SIGKILL");
    }
  });

  it("SIGTERM of the leader: its command (ignoring SIGTERM) is killed after --grace, leadership handed over, exit 0; no overlap", async () => {
    const obs = await cluster(1);
    const leader = await oneRunning(obs);
    const agent = procs[leader] as Proc;
    agent.child.kill("SIGTERM");
    expect(await agent.exit).toBe(0);
    // When the agent has exited, its command is gone (it waited for the whole group).
    expect(obs.sample().map(Number)).not.toContain(leader);
    const next = await oneRunning(obs, String(leader));
    expect(next).not.toBe(leader);
    const ev = events(agent);
    expect(ev.some((e) => e.event === "handover")).toBe(true);
    // (Under load a lease may lapse and the command restart before: look from "stopping" on.)
    const stopping = ev.findIndex((e) => e.event === "stopping");
    const exited = ev.findIndex(
      (e, k) => k > stopping && e.event === "command" && e.state === "exited",
    );
    const handover = ev.findIndex((e) => e.event === "handover");
    expect(stopping).toBeGreaterThanOrEqual(0);
    expect(exited).toBeGreaterThan(stopping);
    expect(handover).toBeGreaterThan(exited); // the command was gone before the handover
    report(obs);
    expect(obs.overlaps).toEqual([]);
    expect(obs.maxAlive).toBe(1);
    expect(obs.samples).toBeGreaterThan(10);
  });

  it("kill -9 of the leader's agent: the watchdog kills the command; the new leader's never overlaps it", async () => {
    const obs = await cluster(3);
    const leader = await oneRunning(obs);
    const killedAt = performance.now();
    procs[leader]?.child.kill("SIGKILL");
    await (procs[0] as Proc).waitFor(
      () => !obs.alive().includes(String(leader)),
      10_000,
      "the dead agent's command to be gone",
    );
    process.stderr.write(
      `command gone ${Math.round(performance.now() - killedAt)} ms after kill -9 of its agent\n`,
    );
    const next = await oneRunning(obs, String(leader));
    expect(next).not.toBe(leader);
    report(obs);
    expect(obs.overlaps).toEqual([]);
    expect(obs.maxAlive).toBe(1);
  });

  it("SIGSTOP of the leader's agent: the watchdog stops the command before the lease runs out; no overlap; on SIGCONT no restart", async () => {
    const obs = await cluster(3);
    const leader = await oneRunning(obs);
    const frozen = procs[leader] as Proc;
    const frozenAt = performance.now();
    frozen.child.kill("SIGSTOP");
    const next = await oneRunning(obs, String(leader));
    expect(next).not.toBe(leader);
    // Frozen for 5 s in all (the issue's measurement), while the new leader serves.
    await new Promise((r) =>
      setTimeout(r, Math.max(1_000, 5_000 - (performance.now() - frozenAt))),
    );
    const woke = frozen.lines.length;
    frozen.child.kill("SIGCONT");
    await frozen.waitFor(
      (lines) =>
        lines
          .slice(woke)
          .map((l) => JSON.parse(l) as Ev)
          .some((e) => e.event === "leader" && e.leader === next),
      15_000,
      "the woken agent to follow the new leader",
    );
    // Woken, it saw its lease gone before anything else: no restart of its command.
    const after = events(frozen).slice(woke);
    const followed = after.findIndex((e) => e.event === "leader" && e.leader === next);
    expect(after.slice(0, followed).filter((e) => e.state === "started")).toEqual([]);
    report(obs);
    expect(obs.overlaps).toEqual([]);
    expect(obs.maxAlive).toBe(1);
  });
});
