import { spawnSync } from "node:child_process";
import { createSocket } from "node:dgram";
import { writeFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { encodeFrame } from "../../src/core/wire.js";
import { Trust } from "../../src/runtime/trust.js";
import { CLI, freePorts, type Proc, startProc, stopAll, tempConfig } from "../helpers/procs.js";

let procs: Proc[] = [];
afterEach(async () => {
  await stopAll(procs);
  procs = [];
});

/** Resolves once the process has logged that it started (bound, signal handlers installed). */
async function started(p: Proc): Promise<void> {
  const end = Date.now() + 20_000;
  while (!p.stderr.some((l) => l.includes("node started"))) {
    if (Date.now() > end) throw new Error("the node did not start within 20 s");
    await new Promise((r) => setTimeout(r, 50));
  }
}

function blast(port: number, from: number | undefined, datagrams: Uint8Array[]): Promise<void> {
  return new Promise((ok) => {
    const s = createSocket("udp4");
    s.bind(from ?? 0, "127.0.0.1", () => {
      let left = datagrams.length;
      for (const d of datagrams) {
        s.send(d, port, "127.0.0.1", () => {
          if (--left > 0) return;
          s.close();
          ok();
        });
      }
    });
  });
}

describe("a running node", () => {
  it("drops garbage, truncated, foreign and spoofed datagrams and keeps delivering", async () => {
    const ports = await freePorts(3);
    const config = tempConfig(ports);
    procs = [0, 1].map((i) =>
      startProc([String(i), "--plain", "--config", config, "--log-level", "warn"]),
    );
    procs[0]?.child.stdin.write("before\n");
    await procs[1]?.waitFor((l) => l.includes("0 says: before"), 20_000, "first delivery");
    const valid = encodeFrame({
      from: 0,
      inc: 1,
      to: 1,
      toInc: 0,
      ack: null,
      data: [{ seq: 1, flags: 0, payload: new Uint8Array([0x94, 0, 1, 0xa1, 0x78]) }],
      base: 1,
      ctrl: [],
      frame: 1,
      top: 0,
    });
    const garbage: Uint8Array[] = [
      new Uint8Array(0),
      new Uint8Array([0xff, 0x00, 0x13]),
      Buffer.from("hello, I am not msgpack"),
      valid.subarray(0, valid.length - 3),
      new Uint8Array(60_000).fill(0xdc),
      Buffer.from(JSON.stringify({ v: 1 })),
    ];
    for (let i = 0; i < 50; i++)
      garbage.push(Buffer.from(Array.from({ length: 40 }, (_, k) => (i * 31 + k * 7) & 0xff)));
    // From an address that is not in the host list:
    await blast(ports[1] as number, undefined, garbage);
    // A well-formed frame claiming to be node 0, but sent from node 2's (unused) port, bare
    // and in the cluster's envelope:
    const envelope = new Trust({ cluster: "rmchat", keys: [], self: 0, epoch: 1 });
    await blast(ports[1] as number, ports[2], [valid, envelope.wrap("frame", 1, valid)]);
    procs[0]?.child.stdin.write("after\n");
    procs[1]?.child.stdin.write("reply\n");
    await procs[1]?.waitFor(
      (l) => l.includes("0 says: after") && l.includes("1 says: reply"),
      20_000,
      "deliveries after garbage",
    );
    await procs[0]?.waitFor((l) => l.includes("1 says: reply"), 20_000, "reply at node 0");
    expect([...(procs[1]?.lines ?? [])].sort()).toEqual([
      "0 says: after",
      "0 says: before",
      "1 says: reply",
    ]);
  });

  it("stops cleanly with exit 0 on SIGTERM and SIGINT, and keeps running after stdin EOF", async () => {
    const config = tempConfig(await freePorts(2));
    procs = [
      startProc(["0", "--plain", "--config", config]),
      startProc(["1", "--plain", "--config", config]),
    ];
    for (const p of procs) p.child.stdin.end();
    // Signals are handled once the node has started (it says so on stderr); stdin EOF came first.
    await Promise.all(procs.map((p) => started(p)));
    await new Promise((r) => setTimeout(r, 300));
    expect(procs.map((p) => p.child.exitCode)).toEqual([null, null]);
    procs[0]?.child.kill("SIGTERM");
    procs[1]?.child.kill("SIGINT");
    expect(await procs[0]?.exit).toBe(0);
    expect(await procs[1]?.exit).toBe(0);
  });

  it("refuses a second process with the same id (port in use) with one line and exit 2", async () => {
    const config = tempConfig(await freePorts(2));
    procs = [startProc(["0", "--plain", "--config", config])];
    await started(procs[0] as Proc);
    const r = spawnSync(process.execPath, [CLI, "0", "--plain", "--config", config], {
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/already in use/);
  });
});

describe("bad command lines get one clear line and exit 2", () => {
  const cases: Array<[string[], RegExp]> = [
    [["7"], /not in the host list/],
    [["x"], /id must be/],
    [["0", "-0.5"], /delay must be/],
    [["0", "abc"], /delay must be a number/],
    [["0", "0", "1"], /drop must be/],
    [["0", "0", "-0.1"], /drop must be/],
    [["0", "--ordering", "random"], /unknown ordering/],
    [["0", "--config", "/nonexistent/rmchat.json"], /config file not found/],
  ];
  for (const [args, re] of cases) {
    it(`rmchat ${args.join(" ")}`, async () => {
      const config = tempConfig(await freePorts(2));
      const full = args.includes("--config") ? args : [...args, "--config", config];
      const r = spawnSync(process.execPath, [CLI, ...full], { encoding: "utf8", timeout: 20_000 });
      expect(r.status).toBe(2);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(re);
      expect(r.stderr).not.toMatch(/\s+at .*\(/); // no stack trace
    });
  }
  it("a malformed config file", () => {
    const path = tempConfig([1]);
    writeFileSync(path, "{ hosts: [");
    const r = spawnSync(process.execPath, [CLI, "0", "--config", path], {
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/not valid JSON/);
  });
});
