import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { runPlain } from "../../src/chat/plain.js";
import type { NodeEvent } from "../../src/core/node.js";
import { DEFAULT_LIMITS } from "../../src/core/types.js";
import { Logger } from "../../src/log.js";
import { UdpRuntime } from "../../src/runtime/udp.js";
import { freePorts } from "../helpers/procs.js";

// Latency at the edges (issue 10, target 8): within one flush of the runtime, a remote
// delivery reaches the listeners before any datagram (the acknowledgement) leaves, while our
// own new message leaves before it is shown. Line mode writes a flush's lines at once.

type Step = string;
let rts: UdpRuntime[] = [];
let dir = "";
afterEach(async () => {
  await Promise.all(rts.map((r) => r.close()));
  rts = [];
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Two nodes on loopback; `log` gets flush boundaries, sends and events of each, in order. */
async function pair(log: Step[], trace = false): Promise<UdpRuntime[]> {
  dir = mkdtempSync(join(tmpdir(), "rmchat-order-"));
  const ports = await freePorts(2);
  rts = await Promise.all(
    [0, 1].map((id) =>
      UdpRuntime.start({
        id,
        hosts: ports.map((port) => ({ host: "127.0.0.1", port })),
        ordering: "causal",
        limits: DEFAULT_LIMITS,
        faults: { delay: 0, drop: 0 },
        logger: new Logger("silent"),
        stateDir: dir,
        trace: trace ? join(dir, `trace-${id}.jsonl`) : undefined,
      }),
    ),
  );
  for (const [id, rt] of rts.entries()) {
    // Instrument the instance: its flush (private) and its socket's send.
    const inner = rt as unknown as { flush: () => void; sock: { socket: { send: unknown } } };
    const flush = inner.flush.bind(rt);
    inner.flush = () => {
      log.push(`${id} flush`);
      flush();
      log.push(`${id} end`);
    };
    const sock = inner.sock.socket as { send: (...a: unknown[]) => void };
    const send = sock.send.bind(sock);
    sock.send = (...a: unknown[]) => {
      log.push(`${id} send`);
      send(...a);
    };
    rt.onEvent((ev: NodeEvent) => {
      if (ev.type === "deliver") log.push(`${id} deliver ${ev.from}`);
      else if (ev.type === "sent") log.push(`${id} sent ${id}`);
    });
  }
  return rts;
}

/** The steps of the flush of node `id` that contains `step`. */
function flushOf(log: Step[], id: number, step: Step): Step[] {
  const at = log.indexOf(step);
  expect(at, `${step} in the log`).toBeGreaterThanOrEqual(0);
  let from = at;
  while (from > 0 && log[from] !== `${id} flush`) from--;
  let to = at;
  while (to < log.length && log[to] !== `${id} end`) to++;
  return log.slice(from, to + 1).filter((s) => s.startsWith(`${id} `));
}

const until = async (cond: () => boolean, ms: number) => {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
  return cond();
};

/** Both know each other (a view of two) before the message. */
async function inView(a: UdpRuntime | undefined, b: UdpRuntime | undefined): Promise<void> {
  const two = (r: UdpRuntime | undefined) => r?.node.status().view.members.length === 2;
  expect(await until(() => two(a) && two(b), 5000)).toBe(true);
}

describe("the runtime's flush order", () => {
  it("a remote delivery is handed over before the acknowledgement leaves; an own message leaves first", async () => {
    const log: Step[] = [];
    const [a, b] = await pair(log);
    await inView(a, b);
    log.length = 0;
    a?.send("hello");
    expect(await until(() => log.includes("1 deliver 0"), 5000)).toBe(true);
    // The receiver: no datagram of that flush precedes the delivery.
    const recv = flushOf(log, 1, "1 deliver 0");
    expect(recv.slice(0, recv.indexOf("1 deliver 0"))).toEqual(["1 flush"]);
    // The sender: the message left (its sends) before the listeners saw it.
    const sent = flushOf(log, 0, "0 sent 0");
    expect(sent.indexOf("0 send")).toBeGreaterThan(0);
    expect(sent.indexOf("0 send")).toBeLessThan(sent.indexOf("0 sent 0"));
  });
});

describe("the runtime's flush order with --trace", () => {
  it("a delivery is in the trace file before anyone is shown it (a killed process printed no more than it traced)", async () => {
    const log: Step[] = [];
    const [a, b] = await pair(log, true);
    await inView(a, b);
    let tracedWhenShown: boolean | undefined;
    b?.onEvent((ev) => {
      if (ev.type === "deliver" && ev.text === "traced") {
        const t = readFileSync(join(dir, "trace-1.jsonl"), "utf8");
        tracedWhenShown = t.includes('"ev":"deliver"') && t.includes("traced");
      }
    });
    a?.send("traced");
    expect(await until(() => tracedWhenShown !== undefined, 5000)).toBe(true);
    expect(tracedWhenShown).toBe(true);
  });
});

describe("line mode", () => {
  it("writes the lines of one batch of events with one write", () => {
    let listener: ((evs: readonly NodeEvent[]) => void) | undefined;
    const sent: string[] = [];
    const rt = {
      onEvents: (fn: (evs: readonly NodeEvent[]) => void) => {
        listener = fn;
      },
      send: (text: string) => {
        sent.push(text);
        return { ok: true as const, seq: sent.length };
      },
    } as unknown as UdpRuntime;
    const writes: string[] = [];
    const input = new PassThrough();
    runPlain(
      { rt, logger: new Logger("silent"), json: false },
      { input, out: { write: (s: string | Uint8Array) => writes.push(String(s)) > 0 } },
    );
    const d = (from: number, seq: number, text: string): NodeEvent =>
      ({ type: "deliver", from, seq, text, vc: null }) as unknown as NodeEvent;
    listener?.([
      d(1, 1, "a"),
      { type: "acked", seq: 1 } as unknown as NodeEvent,
      d(2, 1, "b"),
      d(1, 2, "c"),
    ]);
    expect(writes).toEqual(["1 says: a\n2 says: b\n1 says: c\n"]);
    // A batch with nothing to print writes nothing.
    listener?.([{ type: "acked", seq: 2 } as unknown as NodeEvent]);
    expect(writes).toHaveLength(1);
    input.end("x\n\ny\n");
    return new Promise<void>((resolve) =>
      setImmediate(() => {
        expect(sent).toEqual(["x", "y"]);
        resolve();
      }),
    );
  });
});
