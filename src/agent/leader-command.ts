import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { monoMs, type WatchdogEvent, watchdogArgs } from "./watchdog.js";

export type CommandEvent =
  | { state: "started"; pid: number; term: number }
  | { state: "exited"; code: number | null; signal: string | null; restartInMs: number | undefined }
  | { state: "stopped"; reason: string }
  | { state: "watchdog"; reason: string; signal: string }
  | { state: "refused"; reason: string };

export interface LeaderCommandOptions {
  cmd: string;
  nodeId: number;
  onEvent: (e: CommandEvent) => void;
  /** This node's lease deadline on the monotonic clock (`monoMs`), or -Infinity without a lease. */
  leaseDeadline: () => number;
  /** Between SIGTERM and SIGKILL when asked to stop (cut short by the lease deadline). */
  graceMs?: number;
  /** The watchdog sends SIGKILL this long before the lease deadline, if not renewed. */
  killBeforeMs?: number;
  /** …and SIGTERM this long before that. */
  termBeforeMs?: number;
  /** How often the lease deadline is passed on to the watchdog. */
  feedMs?: number;
  /** The watchdog program (default: watchdog.js beside this module, i.e. in dist/agent). */
  watchdogPath?: string;
}

const defaultWatchdog = (): string => fileURLToPath(new URL("./watchdog.js", import.meta.url));

/**
 * Runs a shell command while this node leads and holds its lease, through a watchdog process
 * (see watchdog.ts) that kills the command's process group when the agent dies or stops
 * renewing. The command gets the term as a fencing token (RMCHAT_TERM) and RMCHAT_NODE_ID.
 * Losing the lease stops it: SIGTERM, then SIGKILL after the grace. If it dies on its own
 * while we lead, it restarts with exponential backoff (1 s, doubling, at most 30 s).
 */
/** One watchdog process and what it told us. */
interface Watchdog {
  proc: ChildProcess;
  ready: boolean;
  /** Set by "go": this one runs (or is about to run) the command. */
  active: boolean;
  pid: number | undefined;
  exit: { code: number | null; signal: string | null } | undefined;
  gone: Promise<void>;
}

export class LeaderCommand {
  /** The watchdog running (or starting) the command. */
  private current: Watchdog | undefined;
  /** A watchdog started ahead, waiting for "go": no process start on the way to leading. */
  private spare: Watchdog | undefined;
  private term = 0;
  private wanted = false;
  private closed = false;
  private backoffMs = 1000;
  private restartTimer: NodeJS.Timeout | undefined;
  private feedTimer: NodeJS.Timeout | undefined;
  private readonly o: Required<LeaderCommandOptions>;

  constructor(opts: LeaderCommandOptions) {
    this.o = {
      graceMs: 3000,
      killBeforeMs: 30,
      termBeforeMs: 100,
      feedMs: 20,
      watchdogPath: defaultWatchdog(),
      ...opts,
    };
    this.spare = this.spawnWatchdog();
  }

  /** A command (or its watchdog, about to start it) is running. */
  get running(): boolean {
    return this.current !== undefined;
  }

  /** Lead with a lease in `term`: make sure the command runs. */
  lead(term: number): void {
    if (this.closed) return;
    if (this.current && this.term === term && this.wanted) return;
    if (this.current && this.wanted) this.stop("new term");
    this.term = term;
    this.wanted = true;
    this.backoffMs = 1000;
    const prev = this.current?.gone ?? Promise.resolve();
    void prev.then(() => this.start());
  }

  private spawnWatchdog(): Watchdog {
    const proc = spawn(
      process.execPath,
      [
        this.o.watchdogPath,
        ...watchdogArgs({
          graceMs: this.o.graceMs,
          termBeforeMs: this.o.termBeforeMs,
          killBeforeMs: this.o.killBeforeMs,
          command: this.o.cmd,
        }),
      ],
      {
        stdio: ["pipe", "pipe", "inherit"],
        env: { ...process.env, RMCHAT_NODE_ID: String(this.o.nodeId) },
      },
    );
    const wd: Watchdog = {
      proc,
      ready: false,
      active: false,
      pid: undefined,
      exit: undefined,
      gone: Promise.resolve(),
    };
    proc.stdin?.on("error", () => {}); // a dead watchdog is seen on "exit"
    let buf = "";
    proc.stdout?.setEncoding("utf8");
    proc.stdout?.on("data", (d: string) => {
      buf += d;
      const lines = buf.split("\n");
      buf = lines.pop() ?? "";
      for (const l of lines) this.fromWatchdog(wd, l);
    });
    wd.gone = new Promise((ok) => {
      proc.on("exit", (code, signal) => {
        // A killed watchdog cannot kill the group: do it ourselves.
        if (signal !== null) this.killGroup(wd);
        if (this.spare === wd) this.spare = undefined;
        if (this.current === wd) {
          if (this.feedTimer) clearInterval(this.feedTimer);
          this.current = undefined;
          this.exited(code === 3 ? undefined : (wd.exit ?? { code: null, signal }));
          if (!this.closed && !this.spare) this.spare = this.spawnWatchdog();
        }
        ok();
      });
    });
    return wd;
  }

  private start(): void {
    if (!this.wanted || this.current || this.closed) return;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    if (!this.hasLease()) {
      // Not enough lease left to start: look again soon (a renewal brings no new lease event).
      this.restartTimer = setTimeout(() => this.start(), this.o.feedMs);
      return;
    }
    const wd = this.spare ?? this.spawnWatchdog();
    this.spare = undefined;
    this.current = wd;
    wd.active = true;
    if (wd.ready) this.go(wd);
    if (this.feedTimer) clearInterval(this.feedTimer);
    this.feedTimer = setInterval(() => this.feed(), this.o.feedMs);
  }

  private hasLease(): boolean {
    return this.o.leaseDeadline() > monoMs() + this.o.killBeforeMs;
  }

  private go(wd: Watchdog): void {
    const t = this.o.leaseDeadline();
    if (this.wanted && !this.closed && this.hasLease())
      wd.proc.stdin?.write(`go ${t} ${this.term}\n`);
    else wd.proc.stdin?.write("stop\n");
  }

  private fromWatchdog(wd: Watchdog, line: string): void {
    let e: WatchdogEvent;
    try {
      e = JSON.parse(line) as WatchdogEvent;
    } catch {
      return;
    }
    if (e.event === "ready") {
      wd.ready = true;
      if (wd.active) this.go(wd);
    } else if (e.event === "started") {
      wd.pid = e.pid;
      this.o.onEvent({ state: "started", pid: e.pid, term: this.term });
    } else if (e.event === "stopping" && e.reason === "the lease is about to run out")
      this.o.onEvent({ state: "watchdog", reason: e.reason, signal: e.signal });
    else if (e.event === "exited") wd.exit = { code: e.code, signal: e.signal };
    else if (e.event === "refused") this.o.onEvent({ state: "refused", reason: e.reason });
  }

  /** The watchdog is gone: report how the command ended, restart it if we still lead. */
  private exited(info: { code: number | null; signal: string | null } | undefined): void {
    if (!info) {
      // Refused to start (the lease ran short meanwhile): try again while we still lead.
      if (this.wanted && !this.closed)
        this.restartTimer = setTimeout(() => this.start(), this.o.feedMs);
      return;
    }
    const restart = this.wanted && !this.closed ? this.backoffMs : undefined;
    this.o.onEvent({ state: "exited", ...info, restartInMs: restart });
    if (restart !== undefined) {
      this.backoffMs = Math.min(30_000, this.backoffMs * 2);
      this.restartTimer = setTimeout(() => this.start(), restart);
    }
  }

  /** Pass the lease deadline on to the watchdog (only ever later; never one that has passed). */
  private feed(): void {
    const stdin = this.current?.proc.stdin;
    if (!stdin || stdin.destroyed) return;
    const t = this.o.leaseDeadline();
    if (t > monoMs()) stdin.write(`lease ${t}\n`);
  }

  /** No longer leader (or the lease lapsed, or we exit): stop it. */
  stop(reason: string): void {
    const was = this.wanted;
    this.wanted = false;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const wd = this.current;
    const stdin = wd?.proc.stdin;
    if (stdin && !stdin.destroyed) stdin.write("stop\n");
    // Also when the watchdog was quicker (the lease ran short): no longer wanted, say so once.
    if (wd || was) this.o.onEvent({ state: "stopped", reason });
  }

  /** Stop for good and resolve once the command's whole process group is gone. */
  async close(reason: string): Promise<void> {
    this.closed = true;
    this.stop(reason);
    // A spare has started nothing (only the current one gets "go"): no need to wait for it.
    this.spare?.proc.kill("SIGKILL");
    this.spare = undefined;
    await this.current?.gone;
  }

  private killGroup(wd: Watchdog): void {
    if (wd.pid === undefined) return;
    try {
      process.kill(-wd.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }

  /** Synchronous last resort at process exit (the watchdog also acts when our pipe closes). */
  killNow(): void {
    if (this.current) this.killGroup(this.current);
  }
}
