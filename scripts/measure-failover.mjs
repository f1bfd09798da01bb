#!/usr/bin/env node
// Failover time with default timings: kill -9 the leader of N real rmchat processes on
// loopback and measure until every survivor reports the same new leader (JSON "leader"
// events on stdout). Usage: node scripts/measure-failover.mjs [trials=10] [nodes=5] [--agent]
// [--sigterm] [--detect]
// --agent: agent processes, timed until every survivor has the new table (NAME-0 = new
// leader) and the new leader reports its on-leader command started.
// --sigterm: (implies --agent) a planned stop instead: SIGTERM to the leader's agent, which
// stops its command, hands leadership over and exits; same finish line.
// --detect: failure detection instead: kill -9 a node that does not lead and measure until
// every survivor reports it dead (JSON "health" events).
// DBG=1 shows the agents' logs on stderr.
import { spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const SIGTERM = process.argv.includes("--sigterm");
const AGENT = SIGTERM || process.argv.includes("--agent");
const DETECT = process.argv.includes("--detect");
const positional = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const TRIALS = Number(positional[0] ?? 10);
const N = Number(positional[1] ?? 5);
const CLI = resolve("dist/cli/main.js");

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
  const dir = mkdtempSync(join(tmpdir(), "rmchat-failover-"));
  const config = join(dir, "config.json");
  const ports = await freePorts(N);
  writeFileSync(
    config,
    JSON.stringify({
      hosts: ports.map((port) => ({ host: "127.0.0.1", port })),
      ordering: "total",
      stateDir: join(dir, "state"),
    }),
  );
  const leader = new Array(N).fill(undefined);
  const head = new Array(N).fill(undefined); // agent: NAME-0's node id in the latest table
  const started = new Array(N).fill(0); // agent: when the on-leader command last started
  const procs = [];
  const running = new Set(); // agents whose command runs (by their own reports)
  let overlap = 0;
  let handoverAt = 0;
  let t0 = 0;
  let victim = -1;
  const saidDead = new Set(); // --detect: survivors that reported the victim dead
  let onChange = () => {};
  for (let i = 0; i < N; i++) {
    const args = AGENT
      ? ["agent", String(i), "--name", "web", "--on-leader", "exec sleep 30", "--json"]
      : [String(i), "--json"];
    const c = spawn(
      process.execPath,
      [CLI, ...args, "--config", config, "--log-level", process.env.DBG ? "info" : "silent"],
      {
        stdio: ["pipe", "pipe", process.env.DBG ? "inherit" : "ignore"],
      },
    );
    let buf = "";
    c.stdout.on("data", (d) => {
      buf += d;
      const lines = buf.split("\n");
      buf = lines.pop();
      for (const l of lines) {
        const e = JSON.parse(l);
        if (e.event === "handover") handoverAt = performance.now();
        if (e.event === "command" && e.state === "started" && SIGTERM) running.add(i);
        if (e.event === "command" && e.state === "exited") running.delete(i);
        if (e.event === "leader") leader[i] = e.leader;
        if (e.event === "health" && e.state === "dead" && e.peer === victim) saidDead.add(i);
        if (e.event === "table") head[i] = e.table[0]?.id;
        if (e.event === "command" && e.state === "started") started[i] = performance.now();
        if (running.size > 1) overlap++;
        onChange();
      }
    });
    procs.push(c);
  }
  const agreed = (among, not) =>
    new Promise((ok, fail) => {
      const t = setTimeout(() => fail(new Error("no agreement within 20 s")), 20_000);
      onChange = () => {
        const l = leader[among[0]];
        const agentDone = !AGENT || (among.every((i) => head[i] === l) && started[l] > t0);
        if (l != null && l !== not && among.every((i) => leader[i] === l) && agentDone) {
          clearTimeout(t);
          ok(l);
        }
      };
      onChange();
    });
  try {
    const first = await agreed([...Array(N).keys()]);
    await new Promise((r) => setTimeout(r, 500));
    victim = DETECT ? (first + 1) % N : first;
    const survivors = [...Array(N).keys()].filter((i) => i !== victim);
    t0 = performance.now();
    procs[victim].kill(SIGTERM ? "SIGTERM" : "SIGKILL");
    if (DETECT)
      await new Promise((ok, fail) => {
        const t = setTimeout(() => fail(new Error("not declared dead within 20 s")), 20_000);
        onChange = () => {
          if (survivors.every((i) => saidDead.has(i))) {
            clearTimeout(t);
            ok();
          }
        };
        onChange();
      });
    else await agreed(survivors, first);
    const ms = performance.now() - t0;
    if (overlap > 0) throw new Error("two commands reported running at once");
    if (SIGTERM) handovers.push(handoverAt - t0);
    return ms;
  } finally {
    for (const p of procs) p.kill("SIGKILL");
  }
}

const times = [];
const handovers = []; // --sigterm: SIGTERM -> the old leader's command gone and the handover sent
for (let k = 0; k < TRIALS; k++) {
  const ms = await trial();
  times.push(ms);
  const h = SIGTERM ? ` (handover sent after ${handovers.at(-1).toFixed(0)} ms)` : "";
  process.stderr.write(`trial ${k + 1}/${TRIALS}: ${ms.toFixed(0)} ms${h}\n`);
}
times.sort((a, b) => a - b);
const med = times[Math.floor(times.length / 2)];
const what = DETECT
  ? `declared dead by all ${N - 1} survivors`
  : AGENT
    ? `new table on all ${N - 1} survivors and the command running on the new leader`
    : `same new leader on all ${N - 1} survivors`;
const how = SIGTERM
  ? "planned handover (SIGTERM of the leader's agent"
  : DETECT
    ? "detection (kill -9 of a follower"
    : "failover (kill -9 of the leader";
console.log(
  `${how} -> ${what}), ${TRIALS} trials: median ${med.toFixed(0)} ms, min ${times[0].toFixed(0)} ms, max ${times[times.length - 1].toFixed(0)} ms`,
);
if (SIGTERM) {
  handovers.sort((a, b) => a - b);
  console.log(
    `  of which SIGTERM -> command stopped and handover sent: median ${handovers[Math.floor(handovers.length / 2)].toFixed(0)} ms`,
  );
}
