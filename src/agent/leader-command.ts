import { type ChildProcess, spawn } from "node:child_process";

export type CommandEvent =
  | { state: "started"; pid: number; term: number }
  | { state: "exited"; code: number | null; signal: string | null; restartInMs: number | undefined }
  | { state: "stopped"; reason: string };

/**
 * Runs a shell command while this node leads and holds its lease. It gets the term as a
 * fencing token (RMCHAT_TERM) and RMCHAT_NODE_ID. Losing the lease stops it: SIGTERM, then
 * SIGKILL after `graceMs`. If it dies on its own while we lead, it restarts with exponential
 * backoff (1 s, doubling, at most 30 s).
 */
export class LeaderCommand {
  private child: ChildProcess | undefined;
  private term = 0;
  private wanted = false;
  private backoffMs = 1000;
  private restartTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly cmd: string,
    private readonly nodeId: number,
    private readonly onEvent: (e: CommandEvent) => void,
    private readonly graceMs = 3000,
  ) {}

  get running(): boolean {
    return this.child !== undefined;
  }

  /** Lead with a lease in `term`: make sure the command runs. */
  lead(term: number): void {
    this.wanted = true;
    if (this.child && this.term === term) return;
    if (this.child) this.stop("new term");
    this.term = term;
    this.wanted = true;
    this.backoffMs = 1000;
    this.start();
  }

  private start(): void {
    if (!this.wanted || this.child) return;
    const child = spawn("/bin/sh", ["-c", this.cmd], {
      stdio: ["ignore", "inherit", "inherit"],
      env: { ...process.env, RMCHAT_TERM: String(this.term), RMCHAT_NODE_ID: String(this.nodeId) },
      detached: true, // its own process group: stopping it stops what it started
    });
    this.child = child;
    this.onEvent({ state: "started", pid: child.pid ?? -1, term: this.term });
    child.on("exit", (code, signal) => {
      if (this.child !== child) return;
      this.child = undefined;
      const restart = this.wanted ? this.backoffMs : undefined;
      this.onEvent({ state: "exited", code, signal, restartInMs: restart });
      if (restart !== undefined) {
        this.backoffMs = Math.min(30_000, this.backoffMs * 2);
        this.restartTimer = setTimeout(() => this.start(), restart);
      }
    });
  }

  /** No longer leader (or the lease lapsed, or we exit): stop it. */
  stop(reason: string): void {
    this.wanted = false;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    const kill = (sig: NodeJS.Signals): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, sig);
      } catch {
        // already gone
      }
    };
    kill("SIGTERM");
    const t = setTimeout(() => kill("SIGKILL"), this.graceMs);
    child.once("exit", () => clearTimeout(t));
    this.onEvent({ state: "stopped", reason });
  }

  /** Synchronous last resort at process exit. */
  killNow(): void {
    if (this.child?.pid !== undefined) {
      try {
        process.kill(-this.child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }
}
