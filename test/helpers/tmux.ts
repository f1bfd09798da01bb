import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const REPO = resolve(".");
export const CLI = resolve("dist/cli/main.js");

/** Free UDP ports on 127.0.0.1: the same helper the other integration tests use. */
export { freePorts as freeUdpPorts } from "./procs.js";

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "rmchat-tui-"));
}

export function writeConfig(dir: string, ports: number[], ordering: string): string {
  const path = join(dir, "config.json");
  writeFileSync(
    path,
    JSON.stringify({
      hosts: ports.map((port) => ({ host: "127.0.0.1", port })),
      ordering,
      stateDir: join(dir, "state"),
    }),
  );
  return path;
}

function shq(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

export interface NodeWindow {
  /** tmux session name. */
  name: string;
  /** File holding the pid of the rmchat process once it runs. */
  pidFile: string;
}

export interface StartOptions {
  cols?: number;
  rows?: number;
  /** Extra environment for rmchat (NO_COLOR, TERM…). */
  env?: Record<string, string>;
  /** Extra node options, e.g. --import a preload. */
  nodeArgs?: string[];
}

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

/**
 * A private tmux server (its own socket, no user config) whose windows run rmchat on a real
 * pseudo-terminal, as a person would. After rmchat exits, the window stays and shows
 * `EXIT=<code> STTY=<same|changed>`: the exit code, and whether the terminal modes are
 * exactly those from before rmchat started.
 */
export class Tmux {
  readonly socket = `rmchat-test-${randomBytes(6).toString("hex")}`;
  private readonly dir = tempDir();
  /** The socket file: kill-server leaves it behind, kill() removes it. */
  private socketPath: string | undefined;

  tmux(...args: string[]): string {
    return execFileSync("tmux", ["-L", this.socket, "-f", "/dev/null", ...args], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
  }

  startNode(name: string, args: string[], o: StartOptions = {}): NodeWindow {
    const pidFile = join(this.dir, `${name}.pid`);
    const script = join(this.dir, `${name}.sh`);
    const env = { LANG: "C.UTF-8", ...(o.env ?? {}) };
    const exports = Object.entries(env)
      .map(([k, v]) => `export ${k}=${shq(v)}`)
      .join("\n");
    const cmd = [process.execPath, ...(o.nodeArgs ?? []), CLI, ...args].map(shq).join(" ");
    writeFileSync(
      script,
      [
        "unset NO_COLOR RMCHAT_CONFIG",
        exports,
        `cd ${shq(REPO)}`,
        "before=$(stty -g)",
        `sh -c 'echo $$ > ${pidFile}; exec "$@"' rmchat ${cmd}`,
        "code=$?",
        'if [ "$before" = "$(stty -g)" ]; then t=same; else t=changed; fi',
        'echo "EXIT=$code STTY=$t"',
        "exec sleep 3600",
        "",
      ].join("\n"),
    );
    this.tmux(
      "new-session",
      "-d",
      "-s",
      name,
      "-x",
      String(o.cols ?? 100),
      "-y",
      String(o.rows ?? 24),
      `sh ${shq(script)}`,
    );
    this.socketPath ??= this.tmux("display-message", "-p", "#{socket_path}").trim();
    return { name, pidFile };
  }

  pid(w: NodeWindow): number {
    return Number(readFileSync(w.pidFile, "utf8").trim());
  }

  /** Type text literally (no key names). */
  type(w: NodeWindow, text: string): void {
    this.tmux("send-keys", "-t", w.name, "-l", text);
  }

  /** Press keys by tmux name: Enter, Up, F2, C-c, PPage… */
  keys(w: NodeWindow, ...keys: string[]): void {
    this.tmux("send-keys", "-t", w.name, ...keys);
  }

  /** Type a line and press Enter. */
  line(w: NodeWindow, text: string): void {
    this.type(w, text);
    this.keys(w, "Enter");
  }

  /** The screen as text; with `escapes`, including the SGR sequences of each cell. */
  capture(w: NodeWindow, escapes = false): string {
    return this.tmux("capture-pane", "-p", ...(escapes ? ["-e"] : []), "-t", w.name);
  }

  lines(w: NodeWindow): string[] {
    return this.capture(w).replace(/\n$/, "").split("\n");
  }

  /** A tmux format about the pane: #{alternate_on}, #{cursor_flag}, #{pane_title}… */
  display(w: NodeWindow, format: string): string {
    return this.tmux("display-message", "-p", "-t", w.name, format).trim();
  }

  /** Poll the screen until `pred` holds; fail with the last screen after `ms`. */
  async waitFor(
    w: NodeWindow,
    what: string,
    pred: (screen: string, lines: string[]) => boolean,
    ms = 20_000,
  ): Promise<string> {
    const until = Date.now() + ms;
    let screen = "";
    for (;;) {
      try {
        screen = this.capture(w);
      } catch {
        screen = "(no pane)";
      }
      const lines = screen.replace(/\n$/, "").split("\n");
      if (pred(screen, lines)) return screen;
      if (Date.now() > until) {
        throw new Error(`timed out waiting for ${what} in window ${w.name}; screen:\n${screen}`);
      }
      await sleep(100);
    }
  }

  /** Wait until the screen shows `text` anywhere. */
  waitText(w: NodeWindow, text: string, ms?: number): Promise<string> {
    return this.waitFor(w, JSON.stringify(text), (s) => s.includes(text), ms);
  }

  /** Stop the server and everything in its windows; remove its socket and files. */
  kill(): void {
    try {
      this.tmux("kill-server");
    } catch {
      // no server left
    }
    if (this.socketPath) rmSync(this.socketPath, { force: true });
    rmSync(this.dir, { recursive: true, force: true });
  }
}
