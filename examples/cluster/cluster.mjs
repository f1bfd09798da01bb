#!/usr/bin/env node
// The container cluster `rmchat agent` is made for, end to end on one machine: N "machines"
// as Linux network namespaces on a bridge (10.200.0.0/24, inside the namespaces only), each
// with its own /etc/hosts bind-mounted into it (as Docker and Kubernetes do), each running
// `rmchat agent --hosts-file /etc/hosts` with a leader-only web server. See demo.sh and the
// README ("Cluster agent"). Run as root: node examples/cluster/cluster.mjs [--check] [N]
// [--measure T] [--measure-sigterm T]. Everything it makes (namespaces, links, hosts files, processes, firewall
// rules) is removed on every exit path.
import { execFileSync, spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const CLI = join(ROOT, "dist/cli/main.js");
const args = process.argv.slice(2);
const CHECK = args.includes("--check");
const mi = args.indexOf("--measure");
const MEASURE = mi >= 0 ? Number(args[mi + 1] ?? 5) : 0;
const si = args.indexOf("--measure-sigterm");
const MEASURE_SIGTERM = si >= 0 ? Number(args[si + 1] ?? 5) : 0;
const nArg = args.filter(
  (a, i) => !a.startsWith("--") && !(mi >= 0 && i === mi + 1) && !(si >= 0 && i === si + 1),
)[0];
const N = Number(nArg ?? 3);
const NAME = "web";
const PORT = 7000;
const HTTP = 8080;
const WAIT_MS = 40_000; // every wait is bounded
const TAG = `rmcd${process.pid}`; // every name we make starts with this
const machines = Array.from({ length: N }, (_, i) => ({
  i,
  ns: `${TAG}m${i}`,
  addr: `10.200.0.${10 + i}`,
  hosts: `/etc/netns/${TAG}m${i}/hosts`,
  proc: undefined,
  lines: [],
}));
const HUB = `${TAG}hub`;
let work = "";
let createdNetnsDir = false;
const t0 = performance.now();

// ------------------------------------------------------------------ output

const say = (s) => process.stdout.write(`${s}\n`);
const detail = (s) => {
  if (!CHECK) say(`    ${s.replace(/\n/g, "\n    ")}`);
};
const stamp = () => `[${((performance.now() - t0) / 1000).toFixed(1)}s]`;
let checks = 0;
const pass = (what) => {
  checks++;
  say(`${stamp()} ok: ${what}`);
};
class CheckFailed extends Error {}
const fail = (what) => {
  throw new CheckFailed(what);
};

// ------------------------------------------------------------------ commands

function sh(cmd, argv, opts = {}) {
  return execFileSync(cmd, argv, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], ...opts });
}
function shOk(cmd, argv, timeout = 15_000) {
  try {
    return sh(cmd, argv, { timeout });
  } catch {
    return undefined;
  }
}
const inNs = (m, cmd, ...argv) => shOk("ip", ["netns", "exec", m.ns, cmd, ...argv]);
const run = (cmd, ...argv) => {
  detail(`$ ${[cmd, ...argv].join(" ")}`);
  sh(cmd, argv);
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(what, fn, ms = WAIT_MS, every = 50) {
  const end = performance.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (performance.now() > end) fail(typeof what === "function" ? what() : what);
    await sleep(every);
  }
}

// ------------------------------------------------------------------ the machines

function preflight() {
  if (process.getuid?.() !== 0) fail("preflight: run as root (network namespaces, bind mounts)");
  for (const tool of ["ip", "iptables", "python3", "curl", "getent"])
    if (!shOk("sh", ["-c", `command -v ${tool}`]))
      fail(`preflight: ${tool} is not installed (apt-get install iproute2 iptables python3 curl)`);
  if (!existsSync(CLI)) fail("preflight: dist/ is not built (npm ci or npm run build)");
  python = shOk("python3", ["-c", "import sys; print(sys.executable)"])?.trim() || "python3";
  if (!Number.isInteger(N) || N < 3 || N > 9) fail(`preflight: N must be 3..9 (got ${nArg})`);
  if (shOk("ip", ["netns", "add", `${TAG}probe`]) === undefined)
    fail("preflight: cannot create a network namespace here (ip netns add)");
  shOk("ip", ["netns", "del", `${TAG}probe`]);
}

/** Leftovers of an earlier run that was killed before it could clean up. */
function sweepStale() {
  const list = shOk("ip", ["netns", "list"]) ?? "";
  for (const line of list.split("\n")) {
    const m = /^(rmcd(\d+)\S*)/.exec(line);
    if (!m || m[2] === String(process.pid)) continue;
    if (existsSync(`/proc/${m[2]}`)) continue; // another run, still going
    killNs(m[1]);
    shOk("ip", ["netns", "del", m[1]]);
    rmSync(`/etc/netns/${m[1]}`, { recursive: true, force: true });
  }
}

function setup() {
  work = mkdtempSync(join(tmpdir(), "rmchat-cluster-"));
  say(`${stamp()} building ${N} machines (network namespaces ${TAG}m0..m${N - 1}) on a bridge`);
  if (!existsSync("/etc/netns")) {
    mkdirSync("/etc/netns");
    createdNetnsDir = true;
  }
  run("ip", "netns", "add", HUB);
  run("ip", "-n", HUB, "link", "add", "br0", "type", "bridge");
  run("ip", "-n", HUB, "link", "set", "br0", "up");
  const config = {
    hosts: machines.map((m) => ({ host: m.addr, port: PORT })),
    stateDir: join(work, "state"),
  };
  writeFileSync(join(work, "config.json"), JSON.stringify(config, null, 2));
  for (const m of machines) {
    const hub = `h${process.pid % 100000}m${m.i}`;
    const peer = `p${process.pid % 100000}m${m.i}`;
    run("ip", "netns", "add", m.ns);
    run("ip", "link", "add", hub, "type", "veth", "peer", "name", peer);
    run("ip", "link", "set", hub, "netns", HUB);
    run("ip", "link", "set", peer, "netns", m.ns);
    run("ip", "-n", HUB, "link", "set", hub, "master", "br0", "up");
    run("ip", "-n", m.ns, "link", "set", peer, "name", "eth0");
    run("ip", "-n", m.ns, "addr", "add", `${m.addr}/24`, "dev", "eth0");
    run("ip", "-n", m.ns, "link", "set", "eth0", "up");
    run("ip", "-n", m.ns, "link", "set", "lo", "up");
    // `ip netns exec` bind-mounts /etc/netns/NS/hosts over /etc/hosts for what it runs there:
    // the machine's own /etc/hosts, a mount point as in a container.
    mkdirSync(dirname(m.hosts), { recursive: true });
    writeFileSync(m.hosts, `127.0.0.1 localhost\n# /etc/hosts of machine m${m.i} (${m.addr})\n`);
    const www = join(work, "www", `m${m.i}`);
    mkdirSync(www, { recursive: true });
    writeFileSync(join(www, "index.html"), `served by machine m${m.i} (${m.addr})\n`);
  }
  detail(`config: ${join(work, "config.json")}`);
}

/** The python3 binary itself (a version manager's shim costs a start-up of its own each time). */
let python = "python3";

function startAgent(m) {
  const log = join(work, `agent-m${m.i}.log`);
  const onLeader = `cd ${join(work, "www")}/m$RMCHAT_NODE_ID && exec ${python} -m http.server ${HTTP} --bind 0.0.0.0 2>>${log}`;
  const argv = [
    "netns",
    "exec",
    m.ns,
    process.execPath,
    CLI,
    "agent",
    String(m.i),
    "--name",
    NAME,
    "--config",
    join(work, "config.json"),
    "--hosts-file",
    "/etc/hosts",
    "--on-leader",
    onLeader,
    "--grace",
    "1",
    "--json",
    "--log-level",
    "warn",
  ];
  detail(
    `$ ip netns exec ${m.ns} rmchat agent ${m.i} --name ${NAME} --hosts-file /etc/hosts --on-leader '…python3 -m http.server ${HTTP}'`,
  );
  const p = spawn("ip", argv, { stdio: ["ignore", "pipe", "pipe"] });
  m.proc = p;
  m.lines = [];
  let buf = "";
  p.stdout.setEncoding("utf8");
  p.stdout.on("data", (d) => {
    buf += d;
    const parts = buf.split("\n");
    buf = parts.pop();
    for (const l of parts) {
      try {
        m.lines.push({ ...JSON.parse(l), at: performance.now() });
      } catch {
        // not ours
      }
    }
  });
  p.stderr.setEncoding("utf8");
  p.stderr.on("data", (d) => {
    try {
      writeFileSync(log, d, { flag: "a" });
    } catch {
      // the work directory is gone: we are cleaning up
    }
  });
}

function nsPids(ns) {
  return (shOk("ip", ["netns", "pids", ns]) ?? "").split("\n").filter((x) => /^\d+$/.test(x));
}
/** kill -9 of every process in the namespace: the whole machine dies. */
function killNs(ns) {
  for (const pid of nsPids(ns)) {
    try {
      process.kill(Number(pid), "SIGKILL");
    } catch {
      // gone
    }
  }
}

let cleaned = false;
function cleanup() {
  if (cleaned) return;
  cleaned = true;
  for (const m of machines) killNs(m.ns);
  for (const m of machines) {
    shOk("ip", ["netns", "del", m.ns]);
    rmSync(dirname(m.hosts), { recursive: true, force: true });
  }
  shOk("ip", ["netns", "del", HUB]);
  // veth ends live in the namespaces and go with them; a half-made one may be left here.
  for (const m of machines) {
    shOk("ip", ["link", "del", `h${process.pid % 100000}m${m.i}`]);
  }
  if (createdNetnsDir) {
    try {
      if (readdirSync("/etc/netns").length === 0) rmSync("/etc/netns", { recursive: true });
    } catch {
      // not ours to remove
    }
  }
  if (work) rmSync(work, { recursive: true, force: true });
}

// ------------------------------------------------------------------ what we look at

/** The table block of a machine's /etc/hosts: [{name, addr}] in file order. */
function tableOf(m) {
  let text;
  try {
    text = readFileSync(m.hosts, "utf8");
  } catch {
    return [];
  }
  const rows = [];
  let inside = false;
  for (const l of text.split("\n")) {
    if (l.startsWith(`# BEGIN rmchat ${NAME}`)) inside = true;
    else if (l === `# END rmchat ${NAME}`) inside = false;
    else if (inside) {
      const [addr, name] = l.split(/\s+/);
      rows.push({ name, addr });
    }
  }
  return rows;
}
const key = (t) => t.map((r) => `${r.name}=${r.addr}`).join(",");

/** The survivors agree on one table of exactly their addresses, numbered NAME-0.. without gaps. */
function oneTable(among) {
  const ts = among.map(tableOf);
  const first = ts[0];
  if (!first || first.length !== among.length) return undefined;
  if (!ts.every((t) => key(t) === key(first))) return undefined;
  if (!first.every((r, k) => r.name === `${NAME}-${k}`)) return undefined;
  const addrs = new Set(first.map((r) => r.addr));
  if (!among.every((m) => addrs.has(m.addr))) return undefined;
  return first;
}

const byAddr = (a) => machines.find((m) => m.addr === a);

/** What `getent hosts NAME-k` says in every machine equals the table. */
function resolvesEverywhere(among, table) {
  for (const m of among)
    for (const r of table) {
      const out = inNs(m, "getent", "hosts", r.name);
      const got = out?.trim().split(/\s+/)[0];
      if (got !== r.addr)
        return `${m.ns}: getent hosts ${r.name} gave ${got ?? "nothing"}, table says ${r.addr}`;
    }
  return undefined;
}

/** The page at http://NAME-0:8080/ as machine m sees it (undefined when nothing answers). */
function page(m) {
  return inNs(m, "curl", "-s", "--max-time", "1", `http://${NAME}-0:${HTTP}/`)?.trim() || undefined;
}

/** Machines whose namespace runs the web server. */
function serving() {
  return machines.filter((m) =>
    nsPids(m.ns).some((pid) => {
      try {
        // python3 -m http.server itself (the watchdogs' command lines only mention it).
        const argv = readFileSync(`/proc/${pid}/cmdline`, "latin1").split("\0");
        return /python/.test(argv[0] ?? "") && argv.includes("http.server");
      } catch {
        return false;
      }
    }),
  );
}

const lastLeader = (m) => m.lines.filter((e) => e.event === "leader").at(-1)?.leader;

// ------------------------------------------------------------------ the story

/**
 * Wait until `among` agree: one table without gaps in every /etc/hosts, `getent hosts` equal to
 * it in every machine, NAME-0 serving the page to every machine, the web server on NAME-0 only;
 * all of it seen in one round (a leader change meanwhile starts the round over).
 */
async function converge(among, what) {
  let problem = "nothing checked yet";
  const ok = await until(
    () => `${what}: ${problem}`,
    () => {
      const table = oneTable(among);
      if (!table) {
        problem = `no single table of ${among.length} without gaps in every machine's /etc/hosts`;
        return undefined;
      }
      const bad = resolvesEverywhere(among, table);
      if (bad) {
        problem = bad;
        return undefined;
      }
      const leader = byAddr(table[0].addr);
      const want = `served by machine m${leader.i} (${leader.addr})`;
      const pages = among.map(page);
      if (!pages.every((p) => p === want)) {
        problem = `${NAME}-0 = m${leader.i}, but the page seen from ${among.map((m) => m.ns).join(", ")}: ${pages.map((p) => p ?? "no answer").join(" | ")}`;
        return undefined;
      }
      const s = serving();
      if (s.length !== 1 || s[0] !== leader) {
        problem = `the web server runs in ${s.map((m) => m.ns).join(", ") || "no machine"}, not only on ${NAME}-0 = m${leader.i}`;
        return undefined;
      }
      if (key(oneTable(among) ?? []) !== key(table)) return undefined;
      return { table, leader, want };
    },
    WAIT_MS,
    100,
  );
  detail(`/etc/hosts of ${among[0].ns}:\n${readFileSync(among[0].hosts, "utf8").trim()}`);
  detail(
    `$ ip netns exec ${among.at(-1).ns} getent hosts ${NAME}-0\n${inNs(among.at(-1), "getent", "hosts", `${NAME}-0`)?.trim()}`,
  );
  detail(`$ ip netns exec ${among.at(-1).ns} curl http://${NAME}-0:${HTTP}/\n${ok.want}`);
  return ok;
}

/** kill -9 of machine m: every process in its namespace. Times until renumbered and served again. */
async function killMachine(m, among, what) {
  const rest = among.filter((x) => x !== m);
  const t = performance.now();
  killNs(m.ns);
  const table = await until(
    `${what}: survivors renumber their /etc/hosts without gaps`,
    () => oneTable(rest),
    WAIT_MS,
    10,
  );
  const hostsMs = performance.now() - t;
  // The page as served by whoever is NAME-0 in the survivors' tables at that moment.
  let leader = byAddr(table[0].addr);
  await until(
    `${what}: the page answers from the new ${NAME}-0`,
    () => {
      const now = oneTable(rest);
      if (!now) return false;
      leader = byAddr(now[0].addr);
      return page(rest[0]) === `served by machine m${leader.i} (${leader.addr})`;
    },
    WAIT_MS,
    20,
  );
  const pageMs = performance.now() - t;
  const started = leader.lines.find(
    (e) => e.event === "command" && e.state === "started" && e.at > t,
  );
  const commandMs = started ? started.at - t : Number.NaN;
  return { table, leader, hostsMs, pageMs, commandMs, rest };
}

async function story() {
  for (const m of machines) startAgent(m);
  let { leader } = await converge(machines, "start");
  pass(
    `${N} machines: one table in every /etc/hosts, getent resolves ${NAME}-0..${N - 1}, ${NAME}-0 = m${leader.i} serves the page`,
  );

  // The leader dies whole: agent, watchdog and web server, by kill -9.
  say(`${stamp()} kill -9 of every process on the leader m${leader.i}`);
  const k = await killMachine(leader, machines, "leader killed");
  const c1 = await converge(k.rest, "leader killed");
  if (c1.leader === leader) fail("leader killed: the dead machine is still NAME-0");
  pass(
    `leader m${leader.i} killed: ${N - 1} survivors renumbered (${Math.round(k.hostsMs)} ms), page from new ${NAME}-0 = m${c1.leader.i} (${Math.round(k.pageMs)} ms)`,
  );
  startAgent(leader);
  ({ leader } = await converge(machines, "restarted"));
  pass(`the killed machine is back: one table of ${N} again, ${NAME}-0 = m${leader.i}`);

  // A follower dies.
  const follower = machines.find((m) => m !== leader);
  say(`${stamp()} kill -9 of every process on follower m${follower.i}`);
  const f = await killMachine(follower, machines, "follower killed");
  const c2 = await converge(f.rest, "follower killed");
  // (The leader normally stays; on a machine too busy to renew leases in time it may not.)
  if (c2.leader !== leader) detail(`the leader changed from m${leader.i} to m${c2.leader.i}`);

  pass(
    `follower m${follower.i} killed: ${N - 1} survivors renumbered without gaps, ${NAME}-0 = m${c2.leader.i} serves the page`,
  );
  startAgent(follower);
  ({ leader } = await converge(machines, "follower restarted"));
  pass(`m${follower.i} back: one table of ${N} again`);

  // A partition in the kernel: the leader and a few on one side, the majority on the other.
  const minority = [leader, ...machines.filter((m) => m !== leader)].slice(
    0,
    Math.floor((N - 1) / 2),
  );
  const majority = machines.filter((m) => !minority.includes(m));
  say(
    `${stamp()} partition (iptables in the kernel): {${minority.map((m) => `m${m.i}`)}} | {${majority.map((m) => `m${m.i}`)}}`,
  );
  for (const m of minority)
    for (const o of majority) {
      run("ip", "netns", "exec", m.ns, "iptables", "-A", "INPUT", "-s", o.addr, "-j", "DROP");
      run("ip", "netns", "exec", m.ns, "iptables", "-A", "OUTPUT", "-d", o.addr, "-j", "DROP");
    }
  const c3 = await converge(majority, "partition, majority side");
  if (minority.includes(c3.leader))
    fail("partition: the majority's NAME-0 is on the minority side");
  await until("partition: the minority side stops the web server", () =>
    minority.every((m) => !serving().includes(m)),
  );
  await until("partition: the minority side has no leader", () =>
    minority.every((m) => lastLeader(m) === null),
  );
  for (const m of minority)
    if (inNs(m, "curl", "-s", "--max-time", "1", `http://${m.addr}:${HTTP}/`) !== undefined)
      fail(`partition: minority machine m${m.i} still serves the page`);
  pass(
    `partition: majority keeps the service (${NAME}-0 = m${c3.leader.i}), minority {${minority.map((m) => `m${m.i}`)}} stopped it`,
  );

  say(`${stamp()} heal the partition`);
  for (const m of minority) run("ip", "netns", "exec", m.ns, "iptables", "-F");
  const c4 = await converge(machines, "healed");
  pass(`healed: one table of ${N} in every machine, ${NAME}-0 = m${c4.leader.i} serves the page`);
  return c4.leader;
}

/** Figures: kill -9 of the leader machine, T times; median/min/max until renumbered and served. */
async function measure(trials) {
  const hosts = [];
  const pages = [];
  const commands = [];
  for (let k = 0; k < trials; k++) {
    const { leader } = await converge(machines, `trial ${k + 1}`);
    await sleep(500);
    const r = await killMachine(leader, machines, `trial ${k + 1}`);
    hosts.push(r.hostsMs);
    pages.push(r.pageMs);
    commands.push(r.commandMs);
    say(
      `trial ${k + 1}/${trials}: /etc/hosts renumbered on all ${N - 1} survivors ${Math.round(r.hostsMs)} ms, command started ${Math.round(r.commandMs)} ms, page from the new ${NAME}-0 ${Math.round(r.pageMs)} ms`,
    );
    startAgent(leader);
  }
  await converge(machines, "after the trials");
  say(
    `kill -9 of the leader machine (${N} machines, ${trials} trials): every survivor's /etc/hosts renumbered: ${fig(hosts)}`,
  );
  say(
    `kill -9 of the leader machine (${N} machines, ${trials} trials): the new leader's agent reports its command started: ${fig(commands.filter((x) => !Number.isNaN(x)))}`,
  );
  say(
    `kill -9 of the leader machine (${N} machines, ${trials} trials): page answers from the new ${NAME}-0: ${fig(pages)}`,
  );
}

/**
 * Figures for a planned stop: SIGTERM to the leader's agent, T times; until NAME-0 has moved in
 * every other machine's /etc/hosts, and until the page answers from the new NAME-0.
 */
async function measureSigterm(trials) {
  const moved = [];
  const pages = [];
  for (let k = 0; k < trials; k++) {
    const { leader } = await converge(machines, `sigterm trial ${k + 1}`);
    await sleep(500);
    const rest = machines.filter((m) => m !== leader);
    const exited = new Promise((ok) => leader.proc.on("exit", ok));
    const t = performance.now();
    leader.proc.kill("SIGTERM");
    let next;
    await until(
      `sigterm trial ${k + 1}: ${NAME}-0 moves in every other machine's /etc/hosts`,
      () => {
        const heads = rest.map((m) => tableOf(m)[0]?.addr);
        if (heads[0] === undefined || heads[0] === leader.addr) return false;
        if (!heads.every((h) => h === heads[0])) return false;
        next = byAddr(heads[0]);
        return true;
      },
      WAIT_MS,
      10,
    );
    moved.push(performance.now() - t);
    const want = `served by machine m${next.i} (${next.addr})`;
    await until(
      `sigterm trial ${k + 1}: the page answers from the new ${NAME}-0`,
      () => page(rest[0]) === want,
      WAIT_MS,
      20,
    );
    pages.push(performance.now() - t);
    say(
      `sigterm trial ${k + 1}/${trials}: ${NAME}-0 moved on all ${N - 1} others ${Math.round(moved.at(-1))} ms, page from the new ${NAME}-0 ${Math.round(pages.at(-1))} ms`,
    );
    await exited;
    startAgent(leader);
  }
  await converge(machines, "after the sigterm trials");
  say(
    `SIGTERM of the leader's agent (${N} machines, ${trials} trials): ${NAME}-0 moved in every other machine's /etc/hosts: ${fig(moved)}`,
  );
  say(
    `SIGTERM of the leader's agent (${N} machines, ${trials} trials): page answers from the new ${NAME}-0: ${fig(pages)}`,
  );
}

function fig(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return `median ${Math.round(s[Math.floor(s.length / 2)])} ms, min ${Math.round(s[0])} ms, max ${Math.round(s.at(-1))} ms`;
}

// ------------------------------------------------------------------ main

const onSignal = (sig) => {
  cleanup();
  say(`FAILED: interrupted by ${sig}`);
  process.exit(1);
};
process.on("SIGINT", () => onSignal("SIGINT"));
process.on("SIGTERM", () => onSignal("SIGTERM"));
process.on("exit", cleanup);

try {
  preflight();
  sweepStale();
  setup();
  await story();
  if (MEASURE > 0) await measure(MEASURE);
  if (MEASURE_SIGTERM > 0) await measureSigterm(MEASURE_SIGTERM);
  cleanup();
  const left = (shOk("ip", ["netns", "list"]) ?? "").split("\n").filter((l) => l.startsWith(TAG));
  if (left.length > 0) fail(`cleanup: namespaces left: ${left.join(", ")}`);
  if (machines.some((m) => existsSync(dirname(m.hosts)))) fail("cleanup: /etc/netns entries left");
  pass("cleanup: no namespace, hosts file, mount or process left");
  say(`all ${checks} checks passed`);
  process.exit(0);
} catch (e) {
  cleanup();
  say(
    e instanceof CheckFailed ? `FAILED: ${e.message}` : `FAILED: internal error: ${e?.stack ?? e}`,
  );
  process.exit(1);
}
