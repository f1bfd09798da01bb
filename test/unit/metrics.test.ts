import { describe, expect, it } from "vitest";
import { unknownCommand } from "../../src/cli/conventions.js";
import type { NodeStats, NodeStatus } from "../../src/core/node-types.js";
import { health, nodeMetrics, renderMetrics } from "../../src/runtime/metrics.js";
import { parseExposition } from "../helpers/prom.js";

const stats: NodeStats = {
  datagramsSent: 10,
  datagramsReceived: 9,
  bytesSent: 1000,
  bytesReceived: 900,
  messagesSent: 2,
  delivered: 5,
  unacked: 1,
  heldBack: 0,
  retransmissions: 3,
  fastRetransmissions: 1,
  duplicates: 4,
  dropped: { "bad-header": 2 },
  peers: [
    {
      id: 1,
      up: true,
      health: "alive",
      incarnation: 1,
      queued: 1,
      inFlight: 1,
      srttMs: 2,
      rtoMs: 200,
    },
    {
      id: 2,
      up: false,
      health: "dead",
      incarnation: 1,
      queued: 0,
      inFlight: 0,
      srttMs: undefined,
      rtoMs: 400,
    },
  ],
};
const status = (leader: number | undefined, members: number[]): NodeStatus => ({
  term: 4,
  role: leader === 0 ? "leader" : "follower",
  leader,
  leaseUntil: 0,
  view: { term: 4, version: 2, members, incs: members.map(() => 1) },
});

describe("metrics", () => {
  const src = (leader: number | undefined, members: number[]) => ({
    id: 0,
    ordering: "total",
    incarnation: 7,
    sendErrors: 0,
    stats: () => stats,
    status: () => status(leader, members),
  });

  it("render as valid exposition text with the node's counters", () => {
    const fams = parseExposition(renderMetrics(nodeMetrics(src(0, [0, 1]), "1.2.3")));
    expect(fams.get("rmchat_datagrams_sent_total")).toMatchObject({
      type: "counter",
      samples: [{ value: 10 }],
    });
    const dropped = fams.get("rmchat_dropped_datagrams_total");
    expect(dropped?.samples.find((s) => s.labels.reason === "bad-header")?.value).toBe(2);
    expect(dropped?.samples.find((s) => s.labels.reason === "undecodable")?.value).toBe(0);
    // The trust layer's reasons: shown at 0 before they happen, counted once they do.
    for (const reason of ["foreign", "auth", "replay", "unbound"])
      expect(dropped?.samples.find((s) => s.labels.reason === reason)?.value).toBe(0);
    const sealed = {
      ...src(0, [0, 1]),
      stats: () => ({ ...stats, dropped: { auth: 3, replay: 1 } }),
    };
    const trustDrops = parseExposition(renderMetrics(nodeMetrics(sealed, "1.2.3"))).get(
      "rmchat_dropped_datagrams_total",
    );
    expect(trustDrops?.samples.find((s) => s.labels.reason === "auth")?.value).toBe(3);
    expect(trustDrops?.samples.find((s) => s.labels.reason === "replay")?.value).toBe(1);
    expect(trustDrops?.samples.find((s) => s.labels.reason === "bad-header")?.value).toBe(0);
    expect(fams.get("rmchat_is_leader")?.samples[0]?.value).toBe(1);
    expect(fams.get("rmchat_peers")?.samples).toContainEqual({
      labels: { state: "dead" },
      value: 1,
    });
    // RTT only for peers with a sample; RTO for all.
    expect(fams.get("rmchat_peer_rtt_seconds")?.samples).toEqual([
      { labels: { peer: "1" }, value: 0.002 },
    ]);
    expect(fams.get("rmchat_peer_rto_seconds")?.samples).toHaveLength(2);
    expect(fams.get("rmchat_info")?.samples[0]?.labels).toEqual({
      node: "0",
      ordering: "total",
      version: "1.2.3",
    });
  });
  it("escape label values", () => {
    const text = renderMetrics([
      { name: "x", help: "h", type: "gauge", samples: [{ labels: { a: 'q"b\\s\nn' }, value: 1 }] },
    ]);
    expect(text).toContain('x{a="q\\"b\\\\s\\nn"} 1');
    expect(parseExposition(text).get("x")?.samples[0]?.labels.a).toBe('q"b\\s\nn');
  });
  it("health: 200 in a view with a leader, else a one-line reason", () => {
    expect(health(src(1, [1, 0]))).toEqual({
      ok: true,
      reason: "ok: leader node 1, term 4, view 4.2",
    });
    expect(health(src(undefined, [1, 0]))).toEqual({
      ok: false,
      reason: "no leader (term 4, view 4.2)",
    });
    expect(health(src(1, [1, 2]))).toEqual({ ok: false, reason: "not a member of view 4.2 [1,2]" });
    expect(health(src(undefined, []))).toEqual({
      ok: false,
      reason: "no view installed yet (term 4)",
    });
  });
});

describe("the exposition checker (negative controls)", () => {
  const ok = "# HELP a_total h\n# TYPE a_total counter\na_total 1\n";
  it("accepts well-formed text", () => {
    expect(parseExposition(ok).get("a_total")?.samples).toEqual([{ labels: {}, value: 1 }]);
  });
  const bad: Array<[string, string, RegExp]> = [
    ["no final newline", ok.slice(0, -1), /newline/],
    ["a sample without TYPE", "b 1\n", /before its TYPE/],
    ["TYPE without HELP", "# TYPE a gauge\na 1\n", /without HELP/],
    ["a counter without _total", "# HELP a h\n# TYPE a counter\na 1\n", /_total/],
    ["a negative counter", "# HELP a_total h\n# TYPE a_total counter\na_total -1\n", /below 0/],
    ["a bad value", "# HELP a h\n# TYPE a gauge\na one\n", /bad value/],
    ["bad labels", "# HELP a h\n# TYPE a gauge\na{x=1} 1\n", /bad labels/],
    ["a series twice", '# HELP a h\n# TYPE a gauge\na{x="1"} 1\na{x="1"} 2\n', /twice/],
    ["samples apart", "# HELP a h\n# TYPE a gauge\n# HELP b h\n# TYPE b gauge\na 1\n", /apart/],
    ["an unknown type", "# HELP a h\n# TYPE a meter\na 1\n", /unknown type/],
  ];
  for (const [name, text, re] of bad) {
    it(`rejects ${name}`, () => {
      expect(() => parseExposition(text)).toThrow(re);
    });
  }
});

describe("unknown subcommands", () => {
  it("suggest the closest command", () => {
    expect(unknownCommand("stauts")).toMatch(/^unknown command "stauts": did you mean "status"\?/);
    expect(unknownCommand("agnet")).toMatch(/did you mean "agent"\?/);
    expect(unknownCommand("b")).toMatch(/did you mean "bench"\?/);
    expect(unknownCommand("members")).toMatch(
      /^unknown command "members" \(commands: agent, bench, keygen, status; a chat node's id must be a non-negative integer/,
    );
  });
});
