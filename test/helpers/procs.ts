import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const CLI = resolve("dist/cli/main.js");

/** Free UDP ports on 127.0.0.1 (bound to port 0, then released). */
export async function freePorts(n: number): Promise<number[]> {
  const socks = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<ReturnType<typeof createSocket>>((ok) => {
          const s = createSocket("udp4");
          s.bind(0, "127.0.0.1", () => ok(s));
        }),
    ),
  );
  const ports = socks.map((s) => s.address().port);
  for (const s of socks) s.close();
  return ports;
}

export function tempConfig(ports: number[], extra: Record<string, unknown> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "rmchat-test-"));
  const path = join(dir, "config.json");
  writeFileSync(
    path,
    JSON.stringify({
      hosts: ports.map((port) => ({ host: "127.0.0.1", port })),
      // Not the user's state directory (the default): each test config gets its own.
      stateDir: join(dir, "state"),
      ...extra,
    }),
  );
  return path;
}

export interface Proc {
  child: ChildProcessWithoutNullStreams;
  lines: string[];
  stderr: string[];
  exit: Promise<number | null>;
  /** Resolves when `pred` holds over the stdout lines (polled on every new line), or rejects after `ms`. */
  waitFor(pred: (lines: string[]) => boolean, ms: number, what: string): Promise<void>;
}

export function startProc(args: string[], env: Record<string, string> = {}): Proc {
  const child = spawn(process.execPath, [CLI, ...args], {
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  const lines: string[] = [];
  const stderr: string[] = [];
  const waiters = new Set<() => void>();
  let buf = "";
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (d: string) => {
    buf += d;
    const parts = buf.split("\n");
    buf = parts.pop() ?? "";
    lines.push(...parts);
    for (const w of waiters) w();
  });
  let ebuf = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (d: string) => {
    ebuf += d;
    const parts = ebuf.split("\n");
    ebuf = parts.pop() ?? "";
    stderr.push(...parts);
  });
  const exit = new Promise<number | null>((ok) => child.on("exit", (code) => ok(code)));
  const waitFor = (pred: (l: string[]) => boolean, ms: number, what: string): Promise<void> =>
    new Promise((ok, fail) => {
      const check = (): void => {
        if (pred(lines)) {
          waiters.delete(check);
          clearTimeout(timer);
          clearInterval(poll);
          ok();
        }
      };
      // Also poll: a predicate may look at other processes' output too.
      const poll = setInterval(check, 100);
      const timer = setTimeout(() => {
        clearInterval(poll);
        waiters.delete(check);
        fail(
          new Error(`timed out waiting for ${what}; stderr tail: ${stderr.slice(-5).join(" | ")}`),
        );
      }, ms);
      waiters.add(check);
      check();
    });
  return { child, lines, stderr, exit, waitFor };
}

export async function stopAll(procs: Proc[]): Promise<void> {
  for (const p of procs) if (p.child.exitCode === null) p.child.kill("SIGTERM");
  await Promise.all(procs.map((p) => p.exit));
}
