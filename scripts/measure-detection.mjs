#!/usr/bin/env node
// Failure detection time with default timings: N real rmchat processes (causal) on loopback;
// once every node has heard every other, kill -9 one that does not lead and measure until
// every survivor reports it dead (JSON "health" events on stdout). Usage:
// node scripts/measure-detection.mjs [trials=5] [nodes=4] [--cli PATH]
import { spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const args = process.argv.slice(2);
const cliAt = args.indexOf("--cli");
const CLI = resolve(cliAt >= 0 ? args[cliAt + 1] : "dist/cli/main.js");
const positional = args.filter((a, i) => !a.startsWith("--") && (cliAt < 0 || i !== cliAt + 1));
const TRIALS = Number(positional[0] ?? 5);
const N = Number(positional[1] ?? 4);

async function freePorts(n) {
  const socks = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise((ok) => {
          const s = createSocket("udp4");
          s.bind(0, "127.0.0.1", () => ok(s));
        }),
    ),
  );
  const ports = socks.map((s) => s.address().port);
  for (const s of socks) s.close();
  return ports;
}

async function trial() {
  const dir = mkdtempSync(join(tmpdir(), "rmchat-detect-"));
  const config = join(dir, "config.json");
  const ports = await freePorts(N);
  writeFileSync(
    config,
    JSON.stringify({
      hosts: ports.map((port) => ({ host: "127.0.0.1", port })),
      ordering: "causal",
      stateDir: join(dir, "state"),
    }),
  );
  const alive = Array.from({ length: N }, () => new Set());
  const deadAt = new Array(N).fill(0);
  const leader = new Array(N).fill(undefined);
  let victim = -1;
  let onChange = () => {};
  const procs = [];
  for (let i = 0; i < N; i++) {
    const c = spawn(
      process.execPath,
      [CLI, String(i), "--json", "--config", config, "--log-level", "silent"],
      {
        stdio: ["pipe", "pipe", "ignore"],
      },
    );
    let buf = "";
    c.stdout.on("data", (d) => {
      buf += d;
      const lines = buf.split("\n");
      buf = lines.pop();
      for (const l of lines) {
        const e = JSON.parse(l);
        if (e.event === "leader") leader[i] = e.leader;
        if (e.event === "health" && e.state === "alive") alive[i].add(e.peer);
        if (e.event === "health" && e.state === "dead" && e.peer === victim && !deadAt[i])
          deadAt[i] = performance.now();
        onChange();
      }
    });
    procs.push(c);
  }
  const until = (cond, what) =>
    new Promise((ok, fail) => {
      const t = setTimeout(() => fail(new Error(`${what}: not within 20 s`)), 20_000);
      onChange = () => {
        if (cond()) {
          clearTimeout(t);
          ok();
        }
      };
      onChange();
    });
  try {
    await until(
      () =>
        alive.every((s) => s.size === N - 1) &&
        leader[0] != null &&
        leader.every((l) => l === leader[0]),
      "a settled group",
    );
    await new Promise((r) => setTimeout(r, 500));
    victim = leader[0] === N - 1 ? 0 : N - 1;
    const survivors = [...Array(N).keys()].filter((i) => i !== victim);
    const t0 = performance.now();
    procs[victim].kill("SIGKILL");
    await until(() => survivors.every((i) => deadAt[i] > 0), "every survivor declares it dead");
    return survivors.map((i) => deadAt[i] - t0);
  } finally {
    for (const p of procs) p.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
}

const all = [];
for (let k = 0; k < TRIALS; k++) {
  const t = await trial();
  all.push(...t);
  console.log(`trial ${k + 1}: ${t.map((x) => Math.round(x)).join(" ")} ms`);
}
all.sort((a, b) => a - b);
const q = (p) => Math.round(all[Math.min(all.length - 1, Math.floor(p * all.length))]);
console.log(
  `detection (kill -9 to "dead" at each survivor), ${all.length} samples: median ${q(0.5)} ms, min ${Math.round(all[0])} ms, max ${Math.round(all[all.length - 1])} ms`,
);
