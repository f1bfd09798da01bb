import { spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { CLI, freePorts, type Proc, startProc, stopAll, tempConfig } from "../helpers/procs.js";
import { type Family, parseExposition } from "../helpers/prom.js";

let procs: Proc[] = [];
afterEach(async () => {
  await stopAll(procs);
  procs = [];
});

/** The metrics URL a node logged at start-up ("serving metrics"). */
async function metricsUrl(p: Proc): Promise<string> {
  const end = Date.now() + 20_000;
  for (;;) {
    for (const l of p.stderr) {
      const rec = JSON.parse(l) as { msg?: string; metrics?: string };
      if (rec.msg === "serving metrics" && rec.metrics) return rec.metrics;
    }
    if (Date.now() > end) throw new Error(`no metrics URL; stderr: ${p.stderr.join(" | ")}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function get(
  url: string,
  method = "GET",
): Promise<{ status: number; body: string; type: string }> {
  const r = await fetch(url, { method });
  return { status: r.status, body: await r.text(), type: r.headers.get("content-type") ?? "" };
}

async function scrape(url: string): Promise<Map<string, Family>> {
  const r = await get(url);
  expect(r.status).toBe(200);
  expect(r.type).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseExposition(r.body);
}

const value = (f: Map<string, Family>, name: string): number => {
  const samples = f.get(name)?.samples ?? [];
  if (samples.length !== 1) throw new Error(`${name}: not one sample`);
  return (samples[0] as { value: number }).value;
};

async function until(what: string, pred: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Every family a node serves, with its type (the README lists the same). */
const NODE_FAMILIES: Record<string, string> = {
  rmchat_info: "gauge",
  rmchat_incarnation: "gauge",
  rmchat_datagrams_sent_total: "counter",
  rmchat_datagrams_received_total: "counter",
  rmchat_bytes_sent_total: "counter",
  rmchat_bytes_received_total: "counter",
  rmchat_messages_sent_total: "counter",
  rmchat_deliveries_total: "counter",
  rmchat_retransmissions_total: "counter",
  rmchat_fast_retransmissions_total: "counter",
  rmchat_duplicates_total: "counter",
  rmchat_dropped_datagrams_total: "counter",
  rmchat_send_errors_total: "counter",
  rmchat_held_back_messages: "gauge",
  rmchat_unacked_fragments: "gauge",
  rmchat_peers: "gauge",
  rmchat_term: "gauge",
  rmchat_is_leader: "gauge",
  rmchat_lease_held: "gauge",
  rmchat_leader_id: "gauge",
  rmchat_view_term: "gauge",
  rmchat_view_version: "gauge",
  rmchat_view_members: "gauge",
  rmchat_peer_up: "gauge",
  rmchat_peer_rtt_seconds: "gauge",
  rmchat_peer_rto_seconds: "gauge",
  rmchat_peer_unacked_fragments: "gauge",
  rmchat_peer_in_flight_fragments: "gauge",
  process_start_time_seconds: "gauge",
  process_resident_memory_bytes: "gauge",
};
const AGENT_FAMILIES: Record<string, string> = {
  rmchat_agent_table_entries: "gauge",
  rmchat_leader_command_running: "gauge",
  rmchat_leader_command_exits_total: "counter",
};

const typesOf = (f: Map<string, Family>): Record<string, string> =>
  Object.fromEntries([...f].map(([k, v]) => [k, v.type]));

describe("--metrics: Prometheus text and /health", () => {
  it("two chat nodes and an agent: health follows the leader, scrapes carry every family", async () => {
    const config = tempConfig(await freePorts(3), { ordering: "total" });
    // Port alone: loopback.
    const a = startProc(["0", "--plain", "--config", config, "--metrics", "0"]);
    procs = [a];
    const urlA = await metricsUrl(a);
    expect(urlA).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const healthA = urlA.replace(/\/metrics$/, "/health");
    // Alone of three (quorum 2): no leader, 503 and one line saying why.
    const h0 = await get(healthA);
    expect(h0.status).toBe(503);
    expect(h0.body).toMatch(
      /^(no leader \(term \d+, view \d+\.\d+\)|no view installed yet \(term \d+\))\n$/,
    );
    const alone = await scrape(urlA);
    expect(value(alone, "rmchat_is_leader")).toBe(0);
    expect(value(alone, "rmchat_leader_id")).toBe(-1);

    const b = startProc(["1", "--plain", "--config", config, "--metrics", "127.0.0.1:0"]);
    const c = startProc([
      "agent",
      "2",
      "--name",
      "web",
      "--config",
      config,
      "--metrics",
      "127.0.0.1:0",
    ]);
    procs.push(b, c);
    const urls = [urlA, await metricsUrl(b), await metricsUrl(c)];
    const healths = urls.map((u) => u.replace(/\/metrics$/, "/health"));
    await until("every node healthy", async () => {
      const rs = await Promise.all(healths.map((h) => get(h)));
      return rs.every((r) => r.status === 200);
    });
    for (const h of healths) {
      expect((await get(h)).body).toMatch(/^ok: leader node \d, term \d+, view \d+\.\d+\n$/);
    }

    a.child.stdin.write("counted\n");
    for (const p of [a, b, c])
      await p.waitFor((l) => l.includes("0 says: counted"), 20_000, "delivery");
    const scrapes = await Promise.all(urls.map((u) => scrape(u)));
    const [sa, sb, sc] = scrapes as [Map<string, Family>, Map<string, Family>, Map<string, Family>];
    expect(typesOf(sa)).toEqual(NODE_FAMILIES);
    expect(typesOf(sb)).toEqual(NODE_FAMILIES);
    expect(typesOf(sc)).toEqual({ ...NODE_FAMILIES, ...AGENT_FAMILIES });
    // Exactly one leader, and everybody knows which.
    expect(scrapes.map((s) => value(s, "rmchat_is_leader")).reduce((x, y) => x + y)).toBe(1);
    const leader = value(sa, "rmchat_leader_id");
    expect(scrapes.map((s) => value(s, "rmchat_leader_id"))).toEqual([leader, leader, leader]);
    expect(value(scrapes[leader] as Map<string, Family>, "rmchat_is_leader")).toBe(1);
    for (const s of scrapes) {
      expect(value(s, "rmchat_view_members")).toBe(3);
      expect(value(s, "rmchat_deliveries_total")).toBeGreaterThanOrEqual(1);
      expect(value(s, "rmchat_datagrams_received_total")).toBeGreaterThan(0);
      expect(s.get("rmchat_peers")?.samples).toContainEqual({
        labels: { state: "alive" },
        value: 2,
      });
      expect(s.get("rmchat_peer_rto_seconds")?.samples.map((x) => x.labels.peer)).toHaveLength(2);
    }
    expect(value(sa, "rmchat_messages_sent_total")).toBe(1);
    expect(value(sb, "rmchat_messages_sent_total")).toBe(0);
    expect(value(sc, "rmchat_agent_table_entries")).toBe(3);
    expect(value(sc, "rmchat_leader_command_running")).toBe(0);
    expect(sa.get("rmchat_info")?.samples[0]?.labels).toMatchObject({
      node: "0",
      ordering: "total",
    });

    expect((await get(urlA.replace(/\/metrics$/, "/nope"))).status).toBe(404);
    expect((await get(urlA, "POST")).status).toBe(405);

    // The leader goes: the others' health turns 503 until a new one is elected, then 200.
    const leaderProc = [a, b, c][leader] as Proc;
    leaderProc.child.kill("SIGKILL");
    await leaderProc.exit;
    const rest = healths.filter((_, i) => i !== leader);
    await until("the survivors to report a new leader", async () => {
      const rs = await Promise.all(rest.map((h) => get(h)));
      return rs.every((r) => r.status === 200 && !r.body.includes(`leader node ${leader},`));
    });
  });

  it("a bad --metrics address, or a port in use, is one line and exit 2", async () => {
    const config = tempConfig(await freePorts(1));
    const server = createServer();
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
    const port = (server.address() as { port: number }).port;
    try {
      for (const [arg, re] of [
        ["nowhere", /--metrics must be HOST:PORT, \[IPv6\]:PORT or PORT \(got "nowhere"\)/],
        [`127.0.0.1:${port}`, new RegExp(`--metrics 127\\.0\\.0\\.1:${port}: port already in use`)],
      ] as const) {
        const r = spawnSync(
          process.execPath,
          [CLI, "0", "--plain", "--config", config, "--metrics", arg],
          {
            encoding: "utf8",
            timeout: 20_000,
          },
        );
        expect(r.status).toBe(2);
        expect(
          r.stderr
            .trim()
            .split("\n")
            .filter((l) => l.startsWith("rmchat: error:")),
        ).toHaveLength(1);
        expect(r.stderr).toMatch(re);
      }
    } finally {
      server.close();
    }
  });
});
