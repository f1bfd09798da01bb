import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { monoMs } from "../../src/agent/watchdog.js";
import { Trust } from "../../src/runtime/trust.js";
import {
  answerQuery,
  decodeStatusAnswer,
  isStatusQuery,
  STATUS_QUERY,
  statusClient,
} from "../../src/status/protocol.js";
import { CommandObserver } from "../helpers/observer.js";

const WATCHDOG = resolve("dist/agent/watchdog.js");
const started: Array<ReturnType<typeof spawn>> = [];
afterEach(() => {
  for (const p of started.splice(0)) if (p.exitCode === null) p.kill("SIGKILL");
});

/** A watchdog for `cmd` (grace, SIGTERM and SIGKILL lead in ms); its events as they come. */
function watchdog(cmd: string, graceMs = 200) {
  const p = spawn(process.execPath, [WATCHDOG, String(graceMs), "100", "30", cmd], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  started.push(p);
  const events: Array<Record<string, unknown>> = [];
  let buf = "";
  p.stdout.setEncoding("utf8");
  p.stdout.on("data", (d: string) => {
    buf += d;
    const lines = buf.split("\n");
    buf = lines.pop() ?? "";
    for (const l of lines) events.push(JSON.parse(l) as Record<string, unknown>);
  });
  const exit = new Promise<number | null>((ok) => p.on("exit", (code) => ok(code)));
  const waitFor = async (event: string): Promise<void> => {
    for (let k = 0; k < 1000 && !events.some((e) => e.event === event); k++)
      await new Promise((r) => setTimeout(r, 10));
  };
  return { p, events, exit, waitFor };
}

describe("watchdog (dist/agent/watchdog.js)", () => {
  it("agent gone (stdin closed): the command's whole group is killed, SIGTERM ignored or not", async () => {
    const obs = new CommandObserver(`8${Math.floor(10_000 + Math.random() * 89_999)}`);
    // Two processes in the group, both ignoring SIGTERM.
    const w = watchdog(`trap '' TERM; sleep ${obs.marker}1 & exec sleep ${obs.marker}0`);
    await w.waitFor("ready");
    w.p.stdin.write(`go ${monoMs() + 60_000} 7\n`);
    await w.waitFor("started");
    for (let k = 0; k < 200 && obs.sample().length < 2; k++)
      await new Promise((r) => setTimeout(r, 10));
    expect(obs.alive().sort()).toEqual(["0", "1"]);
    w.p.stdin.end(); // what a SIGKILLed agent leaves
    expect(await w.exit).toBe(0);
    expect(obs.alive()).toEqual([]);
    expect(w.events.map((e) => e.event)).toEqual([
      "ready",
      "started",
      "stopping",
      "stopping",
      "exited",
    ]);
  });

  it("no renewal: the watchdog kills the command on its own as the lease deadline nears", async () => {
    const obs = new CommandObserver(`8${Math.floor(10_000 + Math.random() * 89_999)}`);
    const w = watchdog(`trap '' TERM; exec sleep ${obs.marker}0`, 60_000);
    await w.waitFor("ready");
    const deadline = monoMs() + 600;
    w.p.stdin.write(`go ${deadline} 7\n`);
    await w.waitFor("exited");
    // The watchdog said it was the lease, and it was gone when it said so (sampled after).
    expect(w.events.filter((e) => e.event === "stopping").map((e) => e.reason)).toContain(
      "the lease is about to run out",
    );
    expect(obs.alive()).toEqual([]);
    w.p.stdin.end();
    expect(await w.exit).toBe(0);
  });

  it("renewals keep it running; 'stop' then ends it (negative control for the one above)", async () => {
    const obs = new CommandObserver(`8${Math.floor(10_000 + Math.random() * 89_999)}`);
    const w = watchdog(`exec sleep ${obs.marker}0`);
    await w.waitFor("ready");
    w.p.stdin.write(`go ${monoMs() + 400} 7\n`);
    await w.waitFor("started");
    for (let k = 0; k < 40; k++) {
      // Each renewal reaches far; without them the first deadline would end it within 400 ms.
      w.p.stdin.write(`lease ${monoMs() + 2_000}\n`);
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(obs.alive()).toEqual(["0"]);
    expect(w.events.some((e) => e.event === "stopping")).toBe(false);
    w.p.stdin.write("stop\n");
    expect(await w.exit).toBe(0);
    expect(obs.alive()).toEqual([]);
  });

  it("starts nothing without 'go', or when the deadline is already past", async () => {
    const a = watchdog("exec sleep 600");
    await a.waitFor("ready");
    a.p.stdin.end();
    expect(await a.exit).toBe(3);
    expect(a.events.map((e) => e.event)).toEqual(["ready"]);
    const b = watchdog("exec sleep 600");
    await b.waitFor("ready");
    b.p.stdin.write(`go ${monoMs() - 1} 7\n`);
    expect(await b.exit).toBe(3);
    expect(b.events.map((e) => e.event)).toEqual(["ready", "refused"]);
  });
});

describe("status protocol (src/status/protocol.ts)", () => {
  const key = new Uint8Array(32).fill(7);
  const other = new Uint8Array(32).fill(9);
  const report = { id: 2, role: "leader", peers: [{ id: 0, health: "alive" }] };
  /** Node 2's answer to `query` (opened as node 2 would), or why there is none. */
  const answer = (
    keys: Uint8Array[],
    query: Uint8Array,
    source = { hostAddress: true, host: false },
    r: Record<string, unknown> & { id: number } = report,
  ) => {
    const node = new Trust({ cluster: "c", keys, self: 2, epoch: 5 });
    const o = node.open(query, undefined);
    if (typeof o === "string") return o;
    return answerQuery(node, o, query.length, source, () => r);
  };

  it("recognises queries exactly; decodes only reports with a numeric id", () => {
    expect(isStatusQuery(STATUS_QUERY)).toBe(true);
    expect(isStatusQuery(Buffer.from("RMCHAT-STATUS?padding"))).toBe(true);
    expect(isStatusQuery(Buffer.from("RMCHAT-STATUS!"))).toBe(false);
    expect(isStatusQuery(Buffer.from("RMCHAT"))).toBe(false);
    expect(decodeStatusAnswer(Buffer.from("{bad"))).toBeUndefined();
    expect(decodeStatusAnswer(Buffer.from('{"id":"2"}'))).toBeUndefined();
    expect(decodeStatusAnswer(Buffer.from('{"id":2}'))).toEqual({ id: 2 });
  });

  it("round-trips, plain and sealed; the wrong key or cluster gets nothing", () => {
    for (const keys of [[], [key]]) {
      const c = statusClient({ cluster: "c", keys, hostCount: 3 });
      const a = answer(keys, c.query);
      expect(a).toBeInstanceOf(Uint8Array);
      expect(c.open(a as Uint8Array)).toEqual(report);
    }
    // A sealed node does not open a plain query, nor one under another key.
    expect(answer([key], statusClient({ cluster: "c", hostCount: 3 }).query)).toBe("auth");
    expect(answer([key], statusClient({ cluster: "c", keys: [other] }).query)).toBe("auth");
    expect(answer([], statusClient({ cluster: "d" }).query)).toBe("foreign");
    // A sealed answer that speaks for another node than its sender is not taken.
    const c = statusClient({ cluster: "c", keys: [key] });
    const liar = answer([key], c.query, undefined, { id: 1 });
    expect(c.open(liar as Uint8Array)).toBeUndefined();
  });

  it("keyless: only host addresses are answered; answers never outgrow the query", () => {
    const c = statusClient({ cluster: "c", hostCount: 3 });
    expect(answer([], c.query, { hostAddress: false, host: false })).toBe("not-a-host");
    // A bare query (no room): the report shrinks to the id, then nothing unless from a host.
    const bare = new Trust({ cluster: "c", keys: [], self: 0xffff, epoch: 1 }).wrap(
      "query",
      undefined,
      STATUS_QUERY,
    );
    expect(answer([], bare)).toBe("too-small");
    const full = answer([], bare, { hostAddress: true, host: true });
    expect(c.open(full as Uint8Array)).toEqual(report);
    const big = { id: 2, peers: "x".repeat(4000), role: "leader" };
    const brief = answer([], c.query, undefined, big) as Uint8Array;
    expect(brief.length).toBeLessThanOrEqual(c.query.length);
    expect(c.open(brief)).toEqual({ id: 2, role: "leader" });
  });
});
