import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { BAD_RULES, BAD_SHAPES } from "../helpers/bad-configs.js";
import { CLI, freePorts, type Proc, startProc, stopAll, tempConfig } from "../helpers/procs.js";

const VERSION = (JSON.parse(readFileSync("package.json", "utf8")) as { version: string }).version;
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** Run the CLI to its end: exit code, stdout, stderr (no RMCHAT_* from the caller's environment). */
function run(args: string[], env: Record<string, string> = {}) {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith("RMCHAT_")),
  );
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: "utf8",
    timeout: 20_000,
    env: { ...clean, ...env },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function oneErrorLine(r: { code: number | null; err: string }, re: RegExp): void {
  expect(r.code).toBe(2);
  const lines = r.err.trim().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^rmchat: error: /);
  expect(lines[0]).toMatch(re);
  expect(r.err).not.toMatch(/\s+at .*\(/);
}

let procs: Proc[] = [];
afterEach(async () => {
  await stopAll(procs);
  procs = [];
});

async function waitUntil(what: string, pred: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("command-line conventions", () => {
  it("--version and -V print the package version", () => {
    for (const flag of ["--version", "-V"]) {
      const r = run([flag]);
      expect(r.code).toBe(0);
      expect(r.out.trim()).toBe(VERSION);
    }
  });
  it("-h and --help print the usage on stdout; a bare rmchat prints it on stderr, exit 2", () => {
    for (const flag of ["-h", "--help"]) {
      const r = run([flag]);
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/rmchat <id> \[delay\] \[drop\]/);
      expect(r.out).toMatch(/rmchat status/);
      expect(r.out).toMatch(/RMCHAT_LOG_LEVEL/);
    }
    expect(run(["status", "-h"]).out).toMatch(/--addr/);
    const bare = run([]);
    expect(bare.code).toBe(2);
    expect(bare.out).toBe("");
    expect(bare.err).toMatch(/rmchat <id> \[delay\] \[drop\]/);
    expect(bare.err).toMatch(/Commands:/);
  });
  it("a mistyped subcommand gets a suggestion, not a chat node", () => {
    oneErrorLine(run(["stauts"]), /unknown command "stauts": did you mean "status"\?/);
    oneErrorLine(
      run(["members"]),
      /unknown command "members" \(commands: agent, bench, keygen, status/,
    );
    oneErrorLine(run(["--plain"]), /missing the node id \(rmchat --help shows usage\)/);
  });
  it("every flag also comes from RMCHAT_<FLAG>; the command line wins", async () => {
    const [port] = await freePorts(1);
    const addr = `127.0.0.1:${port}`;
    const config = tempConfig([port as number]);
    oneErrorLine(
      run(["0", "--config", config], { RMCHAT_ORDERING: "lamport" }),
      /unknown ordering "lamport"/,
    );
    oneErrorLine(
      run(["0", "--config", config], { RMCHAT_LOG_LEVEL: "loud" }),
      /Invalid values: Argument: log-level, Given: "loud"/,
    );
    oneErrorLine(
      run(["status", "--addr", addr], { RMCHAT_TIMEOUT: "abc" }),
      /--timeout must be in/,
    );
    // The command line wins over the environment.
    expect(
      run(["status", "--addr", addr, "--timeout", "0.2"], { RMCHAT_TIMEOUT: "abc" }).code,
    ).toBe(1);
    // A variable for a flag this command does not have is ignored (one environment, several commands).
    expect(
      run(["status", "--addr", addr, "--timeout", "0.2"], { RMCHAT_ORDERING: "total" }).code,
    ).toBe(1);
    // Booleans, numbers and lists, all from the environment.
    const r = run(["status"], { RMCHAT_JSON: "1", RMCHAT_ADDR: addr, RMCHAT_TIMEOUT: "0.2" });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toEqual([{ answered: false, address: addr }]);
    oneErrorLine(
      run(["status"], { RMCHAT_JSON: "maybe", RMCHAT_ADDR: addr }),
      /RMCHAT_JSON must be true or false/,
    );
    // RMCHAT_CONFIG is the --config flag's variable.
    oneErrorLine(
      run(["0"], { RMCHAT_CONFIG: "/nonexistent/c.json" }),
      /config file not found: \/nonexistent\/c\.json/,
    );
  });
  it("a closed stdout (rmchat status | true) ends quietly with exit 0", async () => {
    const [port] = await freePorts(1);
    // `true` exits at once, so rmchat writes its answer (after --timeout) into a closed pipe.
    const r = spawnSync(
      "bash",
      [
        "-c",
        `"${process.execPath}" "${CLI}" status --addr 127.0.0.1:${port} --timeout 0.3 | true; echo "exit=\${PIPESTATUS[0]}"`,
      ],
      { encoding: "utf8", timeout: 20_000 },
    );
    expect(r.stdout.trim()).toBe("exit=0");
    expect(r.stderr).toBe("");
  });
});

describe("rmchat status", () => {
  it("asks one address without a config; --json gives the documented shape; exit 1 when nobody answers", async () => {
    const ports = await freePorts(2);
    const config = tempConfig([ports[0] as number]);
    const node = startProc(["0", "--json", "--config", config]);
    procs = [node];
    await node.waitFor(
      (l) => l.some((x) => x.includes('"event":"leader"') && x.includes('"leader":0')),
      20_000,
      "node 0 to lead",
    );
    const addr = `127.0.0.1:${ports[0]}`;
    const j = run(["status", "--addr", addr, "--json", "--timeout", "0.5"]);
    expect(j.code).toBe(0);
    const [a] = JSON.parse(j.out) as Array<Record<string, unknown>>;
    expect(a).toMatchObject({
      answered: true,
      id: 0,
      address: addr,
      ordering: "causal",
      role: "leader",
      leader: 0,
      view: { members: [0] },
      peers: [],
    });
    expect(typeof a?.term).toBe("number");
    expect(typeof a?.incarnation).toBe("number");
    const t = run(["status", "--addr", addr, "--timeout", "0.5"]);
    expect(t.code).toBe(0);
    expect(t.out).toMatch(/^leader: node 0\nnodes:\n {2}0 127\.0\.0\.1:\d+ {2}leader term \d+/);
    // Nobody at the second address: exit 1, with --json too.
    const none = `127.0.0.1:${ports[1]}`;
    const n = run(["status", "--addr", none, "--json", "--timeout", "0.3"]);
    expect(n.code).toBe(1);
    expect(JSON.parse(n.out)).toEqual([{ answered: false, address: none }]);
    expect(run(["status", "--addr", none, "--timeout", "0.3"]).code).toBe(1);
    // One of two answering is success.
    const both = run(["status", "--addr", addr, "--addr", none, "--json", "--timeout", "0.5"]);
    expect(both.code).toBe(0);
    expect((JSON.parse(both.out) as Array<{ answered: boolean }>).map((x) => x.answered)).toEqual([
      true,
      false,
    ]);
    oneErrorLine(run(["status", "--addr", "nowhere"]), /--addr must be HOST:PORT/);
    // --json events and log lines carry an ISO 8601 time.
    for (const l of node.lines) expect((JSON.parse(l) as { time: string }).time).toMatch(ISO);
    for (const l of node.stderr) expect((JSON.parse(l) as { time: string }).time).toMatch(ISO);
    expect(node.lines.length).toBeGreaterThan(0);
    expect(node.stderr.length).toBeGreaterThan(0);
  });
});

describe("bad configs get one clear line and exit 2", () => {
  const dir = mkdtempSync(join(tmpdir(), "rmchat-badcfg-"));
  let n = 0;
  const file = (raw: unknown): string => {
    const p = join(dir, `c${n++}.json`);
    writeFileSync(p, JSON.stringify(raw));
    return p;
  };
  for (const [name, raw, re] of [...BAD_SHAPES, ...BAD_RULES]) {
    it(name, () => {
      const p = file(raw);
      const r = run(["0", "--config", p]);
      oneErrorLine(r, re);
      expect(r.err).toContain(`config ${p}: `);
    });
  }
  it("a name and an address for the same endpoint", async () => {
    const [port] = await freePorts(1);
    const p = file({
      hosts: [
        { host: "127.0.0.1", port },
        { host: "localhost", port },
      ],
    });
    oneErrorLine(
      run(["0", "--config", p]),
      /hosts\[1\] \(localhost:\d+\) is the same endpoint as hosts\[0\]/,
    );
  });
  it("IPv4 and IPv6 hosts mixed", () => {
    const p = file({
      hosts: [
        { host: "127.0.0.1", port: 1 },
        { host: "::1", port: 2 },
      ],
    });
    oneErrorLine(
      run(["0", "--config", p]),
      /hosts\[1\]\.host: "::1" is IPv6 but hosts\[0\] is IPv4/,
    );
  });
  it("a host name that does not resolve", () => {
    const p = file({ hosts: [{ host: "no-such-host.invalid", port: 1 }] });
    oneErrorLine(
      run(["0", "--config", p]),
      /hosts\[0\]\.host: cannot resolve "no-such-host\.invalid"/,
    );
  });
  it("a stateDir that is a file", async () => {
    const [port] = await freePorts(1);
    const stateFile = join(dir, "not-a-dir");
    writeFileSync(stateFile, "");
    const p = file({ hosts: [{ host: "127.0.0.1", port }], stateDir: join(stateFile, "sub") });
    oneErrorLine(
      run(["0", "--config", p]),
      /cannot use the state directory .*not-a-dir\/sub: a path component is not a directory/,
    );
  });
});

describe("IPv6 hosts", () => {
  it("two nodes on ::1 elect a leader and exchange a message", async () => {
    const ports = await freePorts(2);
    const config = tempConfig([], { hosts: ports.map((port) => ({ host: "::1", port })) });
    procs = [
      startProc(["0", "--plain", "--config", config]),
      startProc(["1", "--plain", "--config", config]),
    ];
    const [a, b] = procs as [Proc, Proc];
    await waitUntil("a leader", () => a.stderr.some((l) => l.includes("leader is node")));
    a.child.stdin.write("over six\n");
    await b.waitFor((l) => l.includes("0 says: over six"), 20_000, "node 1 to deliver");
    await a.waitFor((l) => l.includes("0 says: over six"), 20_000, "node 0 to deliver");
    const s = run(["status", "--addr", `[::1]:${ports[1]}`, "--json", "--timeout", "0.5"]);
    expect(s.code).toBe(0);
    expect(JSON.parse(s.out)).toMatchObject([
      { answered: true, id: 1, address: `[::1]:${ports[1]}` },
    ]);
  });
});
