import { type ChildProcess, fork } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { WorkerHost } from "./host.js";
import type { ToWorker, WorkerMsg } from "./protocol.js";

/** The coordinator's end of one worker: a child process, or a host in this process. */
export interface WorkerHandle {
  readonly pid: number | undefined;
  readonly alive: boolean;
  send(m: ToWorker): void;
  /** Called for every message from the worker. */
  onMessage: (m: WorkerMsg) => void;
  /** Called once when the worker exits (code, or signal name). */
  onExit: (how: string) => void;
  kill(): void;
  readonly exited: Promise<void>;
}

export interface SpawnOptions {
  /** Write a V8 CPU profile per worker into this directory (node --cpu-prof). */
  cpuProfDir?: string | undefined;
}

/** dist/bench/worker.js next to this file (src/ is compiled to dist/ by `npm run build`). */
export function workerScript(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const js = join(here, "worker.js");
  if (existsSync(js)) return js;
  // Running from src/ (vitest, tsx): use the built worker.
  return join(here, "..", "..", "dist", "bench", "worker.js");
}

export function spawnWorker(opts: SpawnOptions = {}): WorkerHandle {
  const script = workerScript();
  if (!existsSync(script)) {
    throw new Error(`benchmark worker not built: ${script} is missing (run \`npm run build\`)`);
  }
  const execArgv = opts.cpuProfDir
    ? ["--cpu-prof", "--cpu-prof-dir", opts.cpuProfDir, "--cpu-prof-interval", "250"]
    : [];
  const child: ChildProcess = fork(script, [], {
    execPath: process.execPath,
    execArgv,
    stdio: ["ignore", "ignore", "inherit", "ipc"],
    serialization: "json",
  });
  let alive = true;
  let resolveExit!: () => void;
  const exited = new Promise<void>((r) => {
    resolveExit = r;
  });
  const h: WorkerHandle = {
    pid: child.pid,
    get alive() {
      return alive;
    },
    send(m) {
      if (alive && child.connected) child.send(m);
    },
    onMessage: () => {},
    onExit: () => {},
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    },
    exited,
  };
  child.on("message", (m) => h.onMessage(m as WorkerMsg));
  child.on("exit", (code, signal) => {
    alive = false;
    h.onExit(signal ?? `exit ${code}`);
    resolveExit();
  });
  child.on("error", () => {
    /* reported through exit */
  });
  return h;
}

/** A worker inside this process (--in-process): same messages, no serialisation. */
export function inProcessWorker(): WorkerHandle {
  let resolveExit!: () => void;
  const exited = new Promise<void>((r) => {
    resolveExit = r;
  });
  let alive = true;
  const finish = (how: string): void => {
    if (!alive) return;
    alive = false;
    h.onExit(how);
    resolveExit();
  };
  const host = new WorkerHost(
    (m) => {
      if (alive) queueMicrotask(() => h.onMessage(m));
    },
    () => finish("exit 0"),
  );
  const h: WorkerHandle = {
    pid: process.pid,
    get alive() {
      return alive;
    },
    send(m) {
      if (!alive) return;
      void host.handle(m.t === "init" ? { ...m, sharedProcess: true } : m);
    },
    onMessage: () => {},
    onExit: () => {},
    kill() {
      // A "crash" of an in-process node: close its socket, stop answering.
      void host.handle({ t: "stop" });
    },
    exited,
  };
  return h;
}

/** N workers kept across the runs of one workload (warm JIT); dead ones are replaced. */
export class WorkerPool {
  private readonly workers: WorkerHandle[] = [];

  constructor(
    private readonly inProcess: boolean,
    private readonly spawnOpts: SpawnOptions,
  ) {}

  /** The first n workers, all alive (spawning replacements as needed). */
  get(n: number): WorkerHandle[] {
    for (let i = 0; i < n; i++) {
      const w = this.workers[i];
      if (!w?.alive) {
        this.workers[i] = this.inProcess ? inProcessWorker() : spawnWorker(this.spawnOpts);
      }
    }
    return this.workers.slice(0, n);
  }

  async close(): Promise<void> {
    for (const w of this.workers) w.send({ t: "stop" });
    const grace = setTimeout(() => {
      for (const w of this.workers) w.kill();
    }, 3000);
    await Promise.all(this.workers.map((w) => w.exited));
    clearTimeout(grace);
    this.workers.length = 0;
  }
}
