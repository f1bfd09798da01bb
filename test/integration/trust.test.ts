import { spawnSync } from "node:child_process";
import { createSocket } from "node:dgram";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Trust } from "../../src/runtime/trust.js";
import { CLI, freePorts, type Proc, startProc, stopAll, tempConfig } from "../helpers/procs.js";

let procs: Proc[] = [];
afterEach(async () => {
  await stopAll(procs);
  procs = [];
});

const key = (b: number) => Buffer.alloc(32, b).toString("base64");

function status(
  config: string | undefined,
  ...more: string[]
): { code: number | null; answers: Array<Record<string, unknown>> } {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith("RMCHAT_")),
  );
  const r = spawnSync(
    process.execPath,
    [CLI, "status", ...(config ? ["--config", config] : []), ...more, "--json", "--timeout", "1"],
    { encoding: "utf8", timeout: 20_000, env },
  );
  return { code: r.status, answers: JSON.parse(r.stdout || "[]") };
}

/**
 * Two groups started from one host list [p0, p1, p2, p3] (a reused config template, say):
 * group A runs nodes 0 and 1, group B nodes 2 and 3. Without keys or cluster names they are
 * one cluster; `extraA` and `extraB` are what tells them apart.
 */
async function overlappingGroups(extraA: Record<string, unknown>, extraB: Record<string, unknown>) {
  const ports = await freePorts(4);
  // Two of four hosts run per group: a quorum of 2 lets each side elect and install a view
  // (a node holds its messages until it is in one).
  const membership = { quorum: 2 };
  const cfgA = tempConfig(ports, { membership, ...extraA });
  const cfgB = tempConfig(ports, { membership, ...extraB });
  const start = (cfg: string, id: number) =>
    startProc([String(id), "--plain", "--config", cfg, "--log-level", "warn"]);
  procs = [start(cfgA, 0), start(cfgA, 1), start(cfgB, 2), start(cfgB, 3)];
  const [pa0, pa1, pb2, pb3] = procs as [Proc, Proc, Proc, Proc];
  pa0.child.stdin.write("group A\n");
  pb2.child.stdin.write("group B\n");
  await pa1.waitFor((l) => l.includes("0 says: group A"), 20_000, "A's message in group A");
  await pb3.waitFor((l) => l.includes("2 says: group B"), 20_000, "B's message in group B");
  return { cfgA, cfgB, pa0, pa1, pb2, pb3 };
}

/** Neither group delivered the other's message (after time for stray deliveries to happen). */
async function separate(g: Awaited<ReturnType<typeof overlappingGroups>>): Promise<void> {
  await new Promise((r) => setTimeout(r, 1500));
  for (const p of [g.pa0, g.pa1]) expect(p.lines).toEqual(["0 says: group A"]);
  for (const p of [g.pb2, g.pb3]) expect(p.lines).toEqual(["2 says: group B"]);
}

/** Resolves once the process has logged that it started (bound, keys read). */
async function started(p: Proc): Promise<void> {
  const end = Date.now() + 20_000;
  while (!p.stderr.some((l) => l.includes("node started"))) {
    if (Date.now() > end) throw new Error("the node did not start within 20 s");
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("trust on the wire (real processes)", () => {
  it("two groups with different keys on one host list never deliver each other's messages", async () => {
    const g = await overlappingGroups({ keys: [key(1)] }, { keys: [key(2)] });
    await separate(g);
    // The sealed status query reads the same config, and the refused datagrams are counted.
    const s = status(g.cfgA);
    expect(s.code).toBe(0);
    const a0 = s.answers[0] as {
      sealed: boolean;
      dropped: Record<string, number>;
      address: string;
    };
    expect(a0.sealed).toBe(true);
    expect(a0.dropped.auth).toBeGreaterThan(0);
    expect(s.answers[2]).toMatchObject({ id: 2, answered: false }); // B's process cannot open A's query
    // --addr with the config: the query is sealed with its keys, and the node answers.
    const byAddr = status(g.cfgA, "--addr", a0.address);
    expect(byAddr.code).toBe(0);
    expect(byAddr.answers).toMatchObject([{ answered: true, id: 0, sealed: true }]);
    // Negative controls: --addr alone sends a keyless query, which a sealed node drops; and
    // A's keys do not open B's node.
    const keyless = status(undefined, "--addr", a0.address);
    expect(keyless.code).toBe(1);
    expect(keyless.answers).toEqual([{ answered: false, address: a0.address }]);
    const other = status(g.cfgA, "--addr", String(s.answers[2]?.address));
    expect(other.answers).toMatchObject([{ answered: false }]);
  });

  it("two groups with different cluster names and no keys drop each other's frames as foreign", async () => {
    const g = await overlappingGroups({ cluster: "alpha" }, { cluster: "beta" });
    await separate(g);
    const a0 = status(g.cfgA).answers[0] as { sealed: boolean; dropped: Record<string, number> };
    expect(a0.sealed).toBe(false);
    expect(a0.dropped.foreign).toBeGreaterThan(0);
  });

  it("negative control: the same setup without keys or names is one cluster", async () => {
    const g = await overlappingGroups({}, {});
    await g.pb3.waitFor((l) => l.includes("0 says: group A"), 20_000, "A's message in group B");
  });

  it("a key file is re-read: a stale ring is rejected until the key is installed", async () => {
    const ports = await freePorts(2);
    const dir = mkdtempSync(join(tmpdir(), "rmchat-keyfile-"));
    const files = [join(dir, "k0"), join(dir, "k1")];
    // Node 1 moved to key 2 (key 1 still accepted); node 0 was left with key 1 only.
    writeFileSync(files[0] as string, `${key(1)}\n`, { mode: 0o600 });
    writeFileSync(files[1] as string, `${key(2)}\n${key(1)}\n`, { mode: 0o600 });
    const cfg = (i: number) => tempConfig(ports, { keyFile: files[i] });
    procs = [0, 1].map((i) => startProc([String(i), "--plain", "--config", cfg(i)]));
    const [p0, p1] = procs as [Proc, Proc];
    // Both must run with their first rings before anything is judged (a slow start would
    // otherwise read the installed key from the start).
    await Promise.all(procs.map((p) => started(p)));
    p0.child.stdin.write("one\n");
    p1.child.stdin.write("two\n");
    await new Promise((r) => setTimeout(r, 2500));
    expect(p0.lines).not.toContain("1 says: two");
    expect(p1.lines).not.toContain("0 says: one");
    // Node 0 installs key 2: from then on both sides authenticate and catch up.
    writeFileSync(files[0] as string, `${key(2)}\n${key(1)}\n`);
    await p0.waitFor((l) => l.includes("1 says: two"), 20_000, "node 0 after installing the key");
    await p1.waitFor((l) => l.includes("0 says: one"), 20_000, "node 1 after node 0 installed it");
    expect(p0.stderr.join("\n")).toContain("keyring installed");
  });

  it("status without keys: host addresses only, and never an answer larger than the query", async () => {
    const ports = await freePorts(1);
    const cfg = tempConfig(ports, {});
    procs = [startProc(["0", "--plain", "--config", cfg])];
    const p = procs[0] as Proc;
    await started(p);
    // Loopback and silent: no exposure warning for the original's plain start.
    expect(p.stderr.some((l) => l.includes("without keys"))).toBe(false);
    const client = new Trust({ cluster: "rmchat", keys: [], self: 0xffff, epoch: 1 });
    const ask = (from: string, size: number): Promise<number[]> =>
      new Promise((ok) => {
        const s = createSocket("udp4");
        const got: number[] = [];
        s.on("message", (m) => got.push(m.length));
        s.bind(0, from, () => {
          const q = Buffer.alloc(size - 6);
          q.write("RMCHAT-STATUS?");
          s.send(client.wrap("query", undefined, q), ports[0] as number, "127.0.0.1");
          setTimeout(() => {
            s.close();
            ok(got);
          }, 700);
        });
      });
    const padded = await ask("127.0.0.1", 1200);
    expect(padded.length).toBe(1);
    expect(padded[0]).toBeLessThanOrEqual(1200);
    expect(await ask("127.0.0.1", 20)).toEqual([]); // nothing fits in 20 bytes
    const small = await ask("127.0.0.1", 60);
    expect(small.length).toBe(1);
    expect(small[0]).toBeLessThanOrEqual(60);
    expect(await ask("127.0.0.2", 1200)).toEqual([]); // not a configured host address
    expect(status(cfg).code).toBe(0);
    // `status --addr` without a config: a keyless query, padded, so the node answers it.
    const byAddr = status(undefined, "--addr", `127.0.0.1:${ports[0]}`);
    expect(byAddr.code).toBe(0);
    expect(byAddr.answers).toMatchObject([{ answered: true, id: 0, sealed: false }]);
  });

  it("rmchat keygen prints a fresh 32-byte key; a key file others can read is refused", async () => {
    const run = (args: string[]) =>
      spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 20_000 });
    const k1 = run(["keygen"]).stdout.trim();
    const k2 = run(["keygen"]).stdout.trim();
    expect(Buffer.from(k1, "base64").length).toBe(32);
    expect(k1).not.toBe(k2);
    const dir = mkdtempSync(join(tmpdir(), "rmchat-keyfile-"));
    const file = join(dir, "keys");
    writeFileSync(file, `${k1}\n`);
    chmodSync(file, 0o644);
    const cfg = tempConfig(await freePorts(2), { keyFile: file });
    const r = run(["0", "--plain", "--config", cfg]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/readable or writable by group or others \(mode 644\); run chmod 600/);
  });
});
