/**
 * The watchdog between `rmchat agent` and its leader-only command: a small process of its own
 * (node dist/agent/watchdog.js), so it keeps running when the agent is killed or frozen.
 *
 *   agent ──stdin: "lease <ms>" / "stop"──► watchdog ──spawn, own process group──► sh -c CMD
 *         ◄─stdout: JSON events───────────
 *
 * The agent feeds it its lease deadline on the monotonic clock (process.hrtime: one clock for
 * every process on the machine), the watchdog acts on its own reading of that clock:
 * - `killBeforeMs` before the deadline, if no later deadline came, the command's whole process
 *   group gets SIGKILL (`termBeforeMs` before it, SIGTERM): a frozen agent's command is gone
 *   before a new leader can be elected, since that needs the lease to have run out.
 * - stdin closed (the agent died, even by SIGKILL): SIGTERM now, SIGKILL after the grace or at
 *   the lease deadline, whichever comes first.
 * - "stop": the same, asked for by a live agent (that keeps renewing, so the grace holds).
 * It exits once no process of the group is left, after an "exited" event.
 *
 * Start-up: it says "ready" and waits; the agent keeps one ready while it does not lead (a
 * process start takes a while on a busy machine) and, holding the lease, says "go <deadline>
 * <term>": only then does the command start, with RMCHAT_TERM = term.
 *
 * Kept free of imports beyond node: itself, so that it starts fast.
 */
import { spawn } from "node:child_process";

export interface WatchdogOptions {
  graceMs: number;
  termBeforeMs: number;
  killBeforeMs: number;
  command: string;
}

export type WatchdogEvent =
  | { event: "ready" }
  | { event: "started"; pid: number }
  | { event: "stopping"; reason: string; signal: "SIGTERM" | "SIGKILL" }
  | { event: "exited"; code: number | null; signal: string | null }
  | { event: "refused"; reason: string };

/** Monotonic milliseconds, comparable between processes of one machine. */
export const monoMs = (): number => Number(process.hrtime.bigint()) / 1e6;

export function watchdogArgs(o: WatchdogOptions): string[] {
  return [String(o.graceMs), String(o.termBeforeMs), String(o.killBeforeMs), o.command];
}

function parseArgs(argv: string[]): WatchdogOptions | undefined {
  const [grace, term, kill, command] = argv;
  const nums = [grace, term, kill].map(Number);
  if (command === undefined || nums.some((n) => !Number.isFinite(n))) return undefined;
  const [graceMs, termBeforeMs, killBeforeMs] = nums as [number, number, number];
  return { graceMs, termBeforeMs, killBeforeMs, command };
}

function run(o: WatchdogOptions): void {
  const emit = (e: WatchdogEvent): void => {
    try {
      process.stdout.write(`${JSON.stringify(e)}\n`);
    } catch {
      // the agent is gone: nobody to tell
    }
  };
  process.stdout.on("error", () => {});
  /** The lease deadline (monotonic ms) the agent told us last; none before "go". */
  let deadline = Number.NEGATIVE_INFINITY;
  let pgid: number | undefined;
  const signal = (sig: "SIGTERM" | "SIGKILL"): void => {
    if (pgid === undefined) return;
    try {
      process.kill(-pgid, sig);
    } catch {
      // the group is gone already
    }
  };
  let stopAskedAt: number | undefined;
  let termSent = false;
  let killSent = false;
  let timer: NodeJS.Timeout | undefined;

  /** The next thing to do, on our own clock; called on every input and every wake-up. */
  const plan = (): void => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (killSent || pgid === undefined) return;
    const now = monoMs();
    const killAt = Math.min(
      deadline - o.killBeforeMs,
      stopAskedAt === undefined ? Number.POSITIVE_INFINITY : stopAskedAt + o.graceMs,
    );
    const termAt = Math.min(
      deadline - o.killBeforeMs - o.termBeforeMs,
      stopAskedAt ?? Number.POSITIVE_INFINITY,
    );
    if (now >= killAt) {
      killSent = true;
      emit({ event: "stopping", reason: reason(now), signal: "SIGKILL" });
      signal("SIGKILL");
      return;
    }
    if (now >= termAt && !termSent) {
      termSent = true;
      emit({ event: "stopping", reason: reason(now), signal: "SIGTERM" });
      signal("SIGTERM");
    }
    const next = termSent ? killAt : termAt;
    timer = setTimeout(plan, Math.max(1, Math.ceil(next - now)));
  };
  const reason = (now: number): string =>
    stopAskedAt !== undefined && now < deadline - o.killBeforeMs
      ? stopReason
      : "the lease is about to run out";
  let stopReason = "asked to stop";
  const stop = (why: string): void => {
    if (pgid === undefined) process.exit(3); // nothing started: nothing to stop
    if (stopAskedAt !== undefined) return;
    stopReason = why;
    stopAskedAt = monoMs();
    plan();
  };

  /**
   * "go": the agent saw that we are up and its lease still runs; start the command now, if the
   * deadline we have is not about to pass (our start-up may have taken a while).
   */
  const launch = (term: string): void => {
    if (pgid !== undefined || stopAskedAt !== undefined) return;
    if (monoMs() >= deadline - o.killBeforeMs) {
      emit({ event: "refused", reason: "the lease runs out before the command could start" });
      process.exit(3);
    }
    const child = spawn("/bin/sh", ["-c", o.command], {
      stdio: ["ignore", "inherit", "inherit"],
      env: { ...process.env, RMCHAT_TERM: term },
      detached: true, // its own process group: stopping it stops everything it started
    });
    if (child.pid === undefined) {
      emit({ event: "refused", reason: "cannot start /bin/sh" });
      process.exit(3);
    }
    const group = child.pid;
    pgid = group;
    emit({ event: "started", pid: group });
    child.on("exit", (code, sig) => ended(group, code, sig));
    plan();
  };

  let buf = "";
  process.stdin.setEncoding("utf8");
  process.stdin.on("data", (d: string) => {
    buf += d;
    const lines = buf.split("\n");
    buf = lines.pop() ?? "";
    for (const l of lines) {
      if (l === "stop") stop("asked to stop");
      else if (l.startsWith("lease ") || l.startsWith("go ")) {
        const [word, at, term] = l.split(" ");
        const t = Number(at);
        // A deadline only moves forward: a late line never takes back an earlier stop time.
        if (Number.isFinite(t) && t > deadline) deadline = t;
        if (word === "go") launch(term ?? "0");
      }
    }
    plan();
  });
  process.stdin.on("end", () => stop("the agent is gone"));
  process.stdin.on("error", () => stop("the agent is gone"));
  // Signals to the watchdog itself (a process manager stopping the tree): stop the command too.
  for (const s of ["SIGTERM", "SIGINT", "SIGHUP"] as const) process.on(s, () => stop(s));

  const ended = (group: number, code: number | null, sig: NodeJS.Signals | null): void => {
    // What the command left in its group goes with it; then wait until the group is empty.
    signal("SIGKILL");
    killSent = true;
    if (timer) clearTimeout(timer);
    const gone = (): boolean => {
      try {
        process.kill(-group, 0);
        return false;
      } catch {
        return true;
      }
    };
    const finish = (): void => {
      emit({ event: "exited", code, signal: sig });
      process.exit(0);
    };
    if (gone()) {
      finish();
      return;
    }
    const poll = setInterval(() => {
      if (!gone()) return;
      clearInterval(poll);
      finish();
    }, 5);
  };
  emit({ event: "ready" });
}

// Run when executed as a program (not when imported for its types and helpers).
if (process.argv[1] && /watchdog\.[jt]s$/.test(process.argv[1])) {
  const o = parseArgs(process.argv.slice(2));
  if (!o) {
    process.stderr.write(
      "rmchat watchdog: usage: watchdog.js GRACE_MS TERM_BEFORE_MS KILL_BEFORE_MS COMMAND\n",
    );
    process.exit(2);
  }
  run(o);
}
