/**
 * Latency and cost at the edges, black box: real chat processes fed on stdin and read on
 * stdout through pipes, as a user runs them. Three chats, the same workloads:
 *
 * - rmchat: the real CLI (`rmchat <id> <delay> <drop> --plain`), one process per node;
 * - raw UDP: raw-chat.js, a stdin line as one datagram to every other node (no reliability);
 * - the Python original (`--python DIR`), run from a copy in a temporary directory with a
 *   generated config.py (its host list), its source untouched.
 *
 * Workloads: idle CPU of each process (/proc/<pid>/stat) over a few seconds; lone messages
 * (one line at node 0, its arrival at every other node, one at a time); paced lines at every
 * node at drop 0; a burst of lines at every node at drop 0.1 (the original's test). Every
 * wait has a deadline; every process is killed and every temporary file removed at the end.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { mono } from "./clock.js";
import { freePorts } from "./coordinator.js";

export type ChatKind = "rmchat" | "raw" | "python";

export const CHAT_NAMES: Record<ChatKind, string> = {
  rmchat: "rmchat CLI",
  raw: "raw UDP chat",
  python: "Python original",
};

export interface EdgeOptions {
  nodes: number;
  /** Lone messages from node 0, one at a time. */
  lone: number;
  /** Paced over the CLI: lines per second per node, and seconds. */
  pacedRate: number;
  pacedSeconds: number;
  /** Seconds of idle CPU measurement (0: skip). */
  idleSeconds: number;
  /** Burst over the CLI: lines per node, and the drop probability. */
  burstCount: number;
  burstDrop: number;
  /** The Python original's directory (a checkout of reliable-multicast-chat). */
  python?: string | undefined;
  /** Seconds any one phase may take. */
  timeoutS: number;
  progress?: (line: string) => void;
}

export interface Latency {
  p50: number;
  p99: number;
  /** Samples (one per message and receiver). */
  count: number;
  /** Arrivals that never came (message × receiver). */
  missing: number;
}

export interface EdgeResult {
  kind: ChatKind;
  /** Why this chat could not be measured (it did not start, …). */
  error?: string;
  /** Idle CPU per process, % of one core. */
  idleCpuPct?: number[];
  lone?: Latency;
  paced?: Latency;
  /** Burst at drop `burstDrop`: first write to the last expected line anywhere. */
  burst?: { seconds: number; complete: boolean; delivered: number; expected: number };
}

const LONE_WAIT_MS = 2000;
const LONE_GAP_MS = 20;
const SAYS = /^(\d+) says: ?(.*)$/;

function here(): string {
  return dirname(fileURLToPath(import.meta.url));
}

/**
 * The node options a launcher's `#!/usr/bin/env -S node …` line gives (bin/rmchat's), so that
 * the nodes run as `rmchat` runs from a shell while the benchmark still picks the node binary.
 */
export function launcherFlags(firstLine: string): string[] {
  const m = /^#!\S*env(?:\s+-S)?\s+node((?:\s+--[\w-]+(?:=\S+)?)*)\s*$/.exec(firstLine);
  return m?.[1] ? m[1].trim().split(/\s+/) : [];
}

function cliFlags(cli: string): string[] {
  try {
    return launcherFlags(readFileSync(cli, "utf8").split("\n", 1)[0] ?? "");
  } catch {
    return [];
  }
}

/** bin/rmchat and dist/bench/raw-chat.js, from dist/bench/ or src/bench/. */
function paths(): { cli: string; raw: string } {
  const root = join(here(), "..", "..");
  return { cli: join(root, "bin", "rmchat"), raw: join(root, "dist", "bench", "raw-chat.js") };
}

interface Line {
  node: number;
  from: number;
  text: string;
  at: number;
}

class Group {
  readonly procs: ChildProcess[] = [];
  private listener: (l: Line) => void = () => {};
  private readonly exits: Array<string | undefined> = [];
  /** Last lines of stderr per process, for the error message when one dies. */
  private readonly tails: string[][] = [];

  constructor(readonly kind: ChatKind) {}

  add(p: ChildProcess, onErr?: (line: string) => void): void {
    const i = this.procs.length;
    this.procs.push(p);
    this.exits.push(undefined);
    this.tails.push([]);
    p.on("exit", (code, sig) => {
      this.exits[i] = sig ?? `exit ${code}`;
    });
    p.on("error", (e) => {
      this.exits[i] = e.message;
    });
    p.stdin?.on("error", () => {});
    if (p.stdout) {
      createInterface({ input: p.stdout }).on("line", (s) => {
        const at = mono();
        const m = SAYS.exec(s);
        if (m) this.listener({ node: i, from: Number(m[1]), text: (m[2] ?? "").trim(), at });
      });
    }
    if (p.stderr) {
      createInterface({ input: p.stderr }).on("line", (s) => {
        const t = this.tails[i] as string[];
        t.push(s);
        if (t.length > 5) t.shift();
        onErr?.(s);
      });
    }
  }

  onLine(fn: (l: Line) => void): void {
    this.listener = fn;
  }

  write(node: number, line: string): void {
    this.procs[node]?.stdin?.write(`${line}\n`);
  }

  /** A process that is gone, as "node i: how (last stderr line)", or undefined. */
  dead(): string | undefined {
    const i = this.exits.findIndex((x) => x !== undefined);
    if (i < 0) return undefined;
    const tail = (this.tails[i] as string[]).slice(-1)[0];
    return `node ${i} ${this.exits[i]}${tail ? ` (${tail.slice(0, 200)})` : ""}`;
  }

  async close(): Promise<void> {
    const live = this.procs.filter((p) => p.exitCode === null && p.signalCode === null);
    await Promise.all(
      live.map(
        (p) =>
          new Promise<void>((resolve) => {
            const t = setTimeout(() => {
              p.kill("SIGKILL");
            }, 3000);
            p.once("exit", () => {
              clearTimeout(t);
              resolve();
            });
            p.kill("SIGTERM");
          }),
      ),
    );
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Poll `cond` every 5 ms until it holds, the group loses a process, or `ms` pass. */
async function until(g: Group, cond: () => boolean, ms: number): Promise<boolean> {
  const end = mono() + ms;
  while (!cond()) {
    if (g.dead() !== undefined || mono() >= end) return cond();
    await sleep(5);
  }
  return true;
}

/** UDP ports bound on 127.0.0.1 (from /proc/net/udp), to know a process has its socket. */
function boundPorts(): Set<number> {
  const out = new Set<number>();
  try {
    for (const l of readFileSync("/proc/net/udp", "utf8").split("\n").slice(1)) {
      const local = l.trim().split(/\s+/)[1];
      if (local) out.add(Number.parseInt(local.split(":")[1] ?? "", 16));
    }
  } catch {
    // no /proc: readiness by time below
  }
  return out;
}

async function startGroup(
  kind: ChatKind,
  n: number,
  drop: number,
  dir: string,
  python: string | undefined,
  readyMs: number,
): Promise<Group> {
  const ports = await freePorts(n);
  const g = new Group(kind);
  const { cli, raw } = paths();
  if (kind === "rmchat") {
    const cfg = join(dir, `config-${drop}.json`);
    writeFileSync(
      cfg,
      JSON.stringify({
        hosts: ports.map((port) => ({ host: "127.0.0.1", port })),
        ordering: "causal",
      }),
    );
    const views = new Array<boolean>(n).fill(false);
    const flags = cliFlags(cli);
    for (let i = 0; i < n; i++) {
      const p = spawn(
        process.execPath,
        [
          ...flags,
          cli,
          String(i),
          "0",
          String(drop),
          "--config",
          cfg,
          "--plain",
          "--log-level",
          "info",
        ],
        {
          stdio: ["pipe", "pipe", "pipe"],
          env: { ...process.env, STATE_DIRECTORY: join(dir, `state-${drop}-${i}`) },
        },
      );
      g.add(p, (s) => {
        const m = /"msg":"view \d+\.\d+: \[([\d, ]*)\]"/.exec(s);
        if (m) views[i] = (m[1] ?? "").split(",").filter((x) => x.trim() !== "").length === n;
      });
    }
    if (!(await until(g, () => views.every(Boolean), readyMs))) {
      const why = g.dead() ?? `no view of all ${n} nodes within ${readyMs / 1000} s`;
      await g.close();
      throw new Error(why);
    }
  } else if (kind === "raw") {
    let ready = 0;
    for (let i = 0; i < n; i++) {
      const p = spawn(process.execPath, [raw, String(i), ports.join(",")], {
        stdio: ["pipe", "pipe", "pipe"],
      });
      g.add(p, (s) => {
        if (s === "ready") ready++;
      });
    }
    if (!(await until(g, () => ready === n, readyMs))) {
      const why = g.dead() ?? "raw chat did not start";
      await g.close();
      throw new Error(why);
    }
  } else {
    const src = python as string;
    const copy = join(dir, `original-${drop}`);
    cpSync(src, copy, { recursive: true, filter: (f) => !f.includes(`${join(src, ".git")}`) });
    // Its configuration is a Python file with the host list and the ordering ('casual').
    const hosts = ports.map((p) => `        ('127.0.0.1', ${p}),`).join("\n");
    writeFileSync(
      join(copy, "reliable_multicast_chat", "config.py"),
      `config = {\n    'hosts': [\n${hosts}\n    ],\n    'ordering': 'casual',\n}\n`,
    );
    for (let i = 0; i < n; i++) {
      const p = spawn(
        "python3",
        [join(copy, "bin", "reliable_multicast_chat"), String(i), "0", String(drop)],
        // Unbuffered stdout: a terminal would show each line at once; a pipe would hold 8 KiB.
        { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, PYTHONUNBUFFERED: "1" } },
      );
      g.add(p);
    }
    const ok = await until(
      g,
      () => {
        const b = boundPorts();
        return ports.every((p) => b.has(p));
      },
      readyMs,
    );
    if (!ok) {
      const why = g.dead() ?? "the original's processes did not bind their ports";
      await g.close();
      throw new Error(why);
    }
    await sleep(200);
  }
  return g;
}

/** utime + stime of a process, ms (/proc/<pid>/stat; clock ticks of 10 ms). */
function cpuMs(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

function quantiles(xs: number[], expected: number): Latency {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) =>
    s.length === 0 ? Number.NaN : (s[Math.min(s.length - 1, Math.floor(p * s.length))] as number);
  return { p50: q(0.5), p99: q(0.99), count: s.length, missing: Math.max(0, expected - s.length) };
}

async function idle(g: Group, seconds: number): Promise<number[]> {
  // Let start-up work (elections, first views, JIT) finish before measuring.
  await sleep(1000);
  const pids = g.procs.map((p) => p.pid);
  const t0 = mono();
  const c0 = pids.map(cpuMs);
  await sleep(seconds * 1000);
  const wall = mono() - t0;
  return pids.map((pid, i) => (100 * (cpuMs(pid) - (c0[i] as number))) / wall);
}

async function lone(g: Group, n: number, count: number): Promise<Latency> {
  const samples: number[] = [];
  let got = 0;
  let text = "";
  let at = 0;
  g.onLine((l) => {
    if (l.text === text && l.node !== 0) {
      samples.push(l.at - at);
      got++;
    }
  });
  for (let i = 1; i <= count; i++) {
    text = `lone-${i}`;
    got = 0;
    at = mono();
    g.write(0, text);
    await until(g, () => got >= n - 1, LONE_WAIT_MS);
    if (g.dead()) break;
    await sleep(LONE_GAP_MS);
  }
  return quantiles(samples, count * (n - 1));
}

async function paced(g: Group, n: number, rate: number, seconds: number, timeoutS: number) {
  const sentAt = new Map<string, number>();
  const samples: number[] = [];
  g.onLine((l) => {
    if (l.from === l.node) return;
    const t = sentAt.get(l.text);
    if (t !== undefined) samples.push(l.at - t);
  });
  const per = Math.max(1, Math.round(rate * seconds));
  const start = mono();
  const sent = new Array<number>(n).fill(0);
  const interval = 1000 / rate;
  while (sent.some((s) => s < per)) {
    if (g.dead()) break;
    const now = mono();
    for (let i = 0; i < n; i++) {
      // Senders staggered over one interval, as the bench's paced workload.
      const due = Math.min(per, Math.floor((now - start - (i / n) * interval) / interval) + 1);
      while ((sent[i] as number) < due) {
        const k = (sent[i] as number) + 1;
        sent[i] = k;
        const text = `paced-${i}-${k}`;
        sentAt.set(text, mono());
        g.write(i, text);
      }
    }
    await sleep(1);
  }
  const expected = per * n * (n - 1);
  await until(g, () => samples.length >= expected, timeoutS * 1000);
  return quantiles(samples, expected);
}

async function burst(g: Group, n: number, count: number, timeoutS: number) {
  const seen = g.procs.map(() => new Set<string>());
  let last = 0;
  g.onLine((l) => {
    if (l.from === l.node || !l.text.startsWith("burst-")) return;
    const s = seen[l.node] as Set<string>;
    if (!s.has(l.text)) {
      s.add(l.text);
      last = l.at;
    }
  });
  const expected = count * (n - 1);
  const start = mono();
  for (let i = 0; i < n; i++) {
    const lines: string[] = [];
    for (let k = 1; k <= count; k++) lines.push(`burst-${i}-${k}`);
    g.procs[i]?.stdin?.write(`${lines.join("\n")}\n`);
  }
  const complete = await until(g, () => seen.every((s) => s.size >= expected), timeoutS * 1000);
  let delivered = 0;
  for (const s of seen) delivered += s.size;
  return {
    seconds: ((complete ? last : mono()) - start) / 1000,
    complete,
    delivered,
    expected: expected * n,
  };
}

/** Measures one chat (every phase it supports); errors end up in `error`. */
async function measureChat(kind: ChatKind, o: EdgeOptions): Promise<EdgeResult> {
  const r: EdgeResult = { kind };
  const dir = mkdtempSync(join(tmpdir(), "rmchat-edges-"));
  const say = (what: string) => o.progress?.(`edges, ${CHAT_NAMES[kind]}: ${what}…`);
  try {
    let g: Group | undefined;
    try {
      say("starting");
      g = await startGroup(kind, o.nodes, 0, dir, o.python, o.timeoutS * 1000);
      if (o.idleSeconds > 0 && kind !== "raw") {
        say(`idle ${o.idleSeconds} s`);
        r.idleCpuPct = await idle(g, o.idleSeconds);
      }
      if (o.lone > 0) {
        say(`${o.lone} lone messages`);
        r.lone = await lone(g, o.nodes, o.lone);
      }
      if (o.pacedSeconds > 0) {
        say(`paced ${o.pacedRate}/s per node for ${o.pacedSeconds} s`);
        r.paced = await paced(g, o.nodes, o.pacedRate, o.pacedSeconds, o.timeoutS);
      }
      const d = g.dead();
      if (d) r.error = `a process died: ${d}`;
    } finally {
      await g?.close();
    }
    if (kind !== "raw" && o.burstCount > 0 && !r.error) {
      let b: Group | undefined;
      try {
        say(`burst ${o.nodes}×${o.burstCount} at drop ${o.burstDrop}`);
        b = await startGroup(kind, o.nodes, o.burstDrop, dir, o.python, o.timeoutS * 1000);
        r.burst = await burst(b, o.nodes, o.burstCount, o.timeoutS);
        const d = b.dead();
        if (d) r.error = `a process died: ${d}`;
      } finally {
        await b?.close();
      }
    }
  } catch (e) {
    r.error = e instanceof Error ? e.message : String(e);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return r;
}

/** rmchat's CLI, the raw-UDP chat and (with `python`) the original, one after the other. */
export async function measureEdges(o: EdgeOptions): Promise<EdgeResult[]> {
  const kinds: ChatKind[] = ["rmchat", "raw"];
  if (o.python !== undefined) kinds.push("python");
  const out: EdgeResult[] = [];
  for (const k of kinds) out.push(await measureChat(k, o));
  return out;
}

const f = (x: number | undefined, d = 2): string =>
  x === undefined || Number.isNaN(x) ? "—" : x.toFixed(d);

/** Lines for the report: one per chat. */
export function formatEdges(
  rs: EdgeResult[],
  o: { burstCount: number; burstDrop: number; nodes: number },
): string[] {
  const out = [`edges (real processes, stdin to stdout over pipes, ${o.nodes} nodes, causal):`];
  for (const r of rs) {
    const parts: string[] = [];
    if (r.idleCpuPct) {
      parts.push(`idle CPU ${r.idleCpuPct.map((x) => f(x)).join(" / ")} % of a core`);
    }
    if (r.lone) {
      parts.push(
        `lone message p50 ${f(r.lone.p50, 3)} ms, p99 ${f(r.lone.p99, 3)} ms (${r.lone.count} arrivals${r.lone.missing > 0 ? `, ${r.lone.missing} missing` : ""})`,
      );
    }
    if (r.paced) {
      parts.push(
        `paced drop 0 p50 ${f(r.paced.p50, 3)} ms, p99 ${f(r.paced.p99, 3)} ms${r.paced.missing > 0 ? ` (${r.paced.missing} missing)` : ""}`,
      );
    }
    if (r.burst) {
      parts.push(
        `burst ${o.nodes}×${o.burstCount} drop ${o.burstDrop}: ${r.burst.complete ? `${f(r.burst.seconds, 3)} s` : `timed out (${r.burst.delivered}/${r.burst.expected} lines)`}`,
      );
    }
    if (r.error) parts.push(`ERROR: ${r.error}`);
    out.push(`  ${CHAT_NAMES[r.kind]}: ${parts.join("; ") || "nothing measured"}`);
  }
  return out;
}
