import { createSocket, type Socket } from "node:dgram";
import { performance } from "node:perf_hooks";
import type { BaselineRole, FromWorker, ToWorker } from "./protocol.js";
import type { SpawnOptions, WorkerHandle } from "./workers.js";

/** Raw Node UDP on loopback, measured in the same run as rmchat, for the ratios. */
export interface Baseline {
  /** Ping-pong round trip between two processes, µs. */
  rttP50Us: number;
  rttP99Us: number;
  /** One process flooding another with `size`-byte datagrams: datagrams received per second. */
  floodDatagramsPerSec: number;
  /** The same with 10 messages of `size` bytes packed per datagram: messages per second. */
  floodPackedMsgsPerSec: number;
  size: number;
}

const PINGS = 2000;
const WARMUP_PINGS = 200;
/** Datagrams the flooder keeps queued in libuv at most (no unbounded queue). */
const FLOOD_QUEUE = 128;

function bindLoopback(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createSocket({ type: "udp4" });
    s.once("error", reject);
    s.bind(0, "127.0.0.1", () => {
      try {
        s.setRecvBufferSize(4 * 1024 * 1024);
        s.setSendBufferSize(4 * 1024 * 1024);
      } catch {
        // capped by the kernel: fine
      }
      resolve(s);
    });
  });
}

/** Worker side: one role of the baseline. */
export async function runBaselineRole(
  m: Extract<ToWorker, { t: "baseline" }>,
  emit: (m: FromWorker) => void,
): Promise<void> {
  const sock = await bindLoopback();
  const port = sock.address().port;
  const payload = Buffer.alloc(m.size, 46);
  switch (m.role) {
    case "echo":
      sock.on("message", (msg, r) => sock.send(msg, r.port, r.address));
      emit({ t: "baseline-ready", port });
      return;
    case "sink": {
      let count = 0;
      let first = 0;
      let reported = false;
      sock.on("message", () => {
        if (reported) return;
        const now = performance.now();
        if (count === 0) first = now;
        count++;
        if (now - first >= m.durationMs) {
          reported = true;
          emit({ t: "baseline-result", values: [], count, elapsedMs: now - first });
        }
      });
      emit({ t: "baseline-ready", port });
      return;
    }
    case "ping": {
      const rtts: number[] = [];
      let sentAt = 0;
      let i = 0;
      const deadline = performance.now() + m.durationMs;
      const ping = (): void => {
        sentAt = performance.now();
        sock.send(payload, m.port, "127.0.0.1");
      };
      const finish = (): void => {
        sock.removeAllListeners("message");
        clearTimeout(guard);
        rtts.sort((a, b) => a - b);
        const q = (p: number) => rtts[Math.min(rtts.length - 1, Math.floor(p * rtts.length))] ?? 0;
        emit({
          t: "baseline-result",
          values: [q(0.5), q(0.99)],
          count: rtts.length,
          elapsedMs: 0,
        });
        sock.close();
      };
      const guard = setTimeout(finish, m.durationMs + 1000);
      sock.on("message", () => {
        const rtt = (performance.now() - sentAt) * 1000;
        if (i++ >= WARMUP_PINGS) rtts.push(rtt);
        if (i < PINGS + WARMUP_PINGS && performance.now() < deadline) ping();
        else finish();
      });
      ping();
      return;
    }
    case "flood": {
      const until = performance.now() + m.durationMs;
      const turn = (): void => {
        if (performance.now() >= until) {
          sock.close();
          emit({ t: "baseline-result", values: [], count: 0, elapsedMs: 0 });
          return;
        }
        let n = 0;
        while (n < 64 && sock.getSendQueueCount() < FLOOD_QUEUE) {
          sock.send(payload, m.port, "127.0.0.1");
          n++;
        }
        setImmediate(turn);
      };
      turn();
      return;
    }
  }
}

function waitFor<T extends FromWorker["t"]>(
  w: WorkerHandle,
  t: T,
  ms: number,
): Promise<Extract<FromWorker, { t: T }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`baseline: no ${t} within ${ms} ms`)), ms);
    const prev = w.onMessage;
    w.onMessage = (m) => {
      if (m.t === t) {
        clearTimeout(timer);
        w.onMessage = prev;
        resolve(m as unknown as Extract<FromWorker, { t: T }>);
      }
    };
  });
}

async function pair(
  spawn: (o: SpawnOptions) => WorkerHandle,
  server: BaselineRole,
  client: BaselineRole,
  size: number,
  durationMs: number,
): Promise<Extract<FromWorker, { t: "baseline-result" }>> {
  const a = spawn({});
  const b = spawn({});
  try {
    const ready = waitFor(a, "baseline-ready", 10_000);
    a.send({ t: "baseline", role: server, port: 0, size, durationMs });
    const { port } = await ready;
    // The sink reports; the pinger reports.
    const reporter = server === "sink" ? a : b;
    const result = waitFor(reporter, "baseline-result", durationMs + 10_000);
    b.send({ t: "baseline", role: client, port, size, durationMs: durationMs + 300 });
    return await result;
  } finally {
    a.kill();
    b.kill();
    await Promise.all([a.exited, b.exited]);
  }
}

/** Coordinator side: ping-pong RTT, then a flood of single and of 10-message datagrams. */
export async function measureBaseline(
  spawn: (o: SpawnOptions) => WorkerHandle,
  size: number,
  floodMs = 1000,
): Promise<Baseline> {
  const ping = await pair(spawn, "echo", "ping", size, 2000);
  const single = await pair(spawn, "sink", "flood", size, floodMs);
  const packedSize = Math.min(65507, size * 10);
  const packed = await pair(spawn, "sink", "flood", packedSize, floodMs);
  const rate = (r: { count: number; elapsedMs: number }) =>
    r.elapsedMs > 0 ? (r.count / r.elapsedMs) * 1000 : 0;
  return {
    rttP50Us: ping.values[0] ?? 0,
    rttP99Us: ping.values[1] ?? 0,
    floodDatagramsPerSec: rate(single),
    floodPackedMsgsPerSec: rate(packed) * (packedSize / size),
    size,
  };
}
