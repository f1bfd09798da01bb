import { describe, expect, it } from "vitest";
import { colorWanted, NODE_PALETTE, nodeColor, Style } from "../../src/chat/colors.js";
import { inert, visibleText } from "../../src/chat/tui-escape.js";
import {
  compressIds,
  fitSegments,
  formatEntry,
  heldPanel,
  leaderText,
  logLine,
  peersReport,
  peersText,
  type StatusInfo,
  statusSegments,
  titleBar,
} from "../../src/chat/tui-format.js";
import { applyEvent, ChatLog, type Entry, Scrollback } from "../../src/chat/tui-model.js";
import type { NodeStats } from "../../src/core/node.js";

const mono = new Style(false);
const color = new Style(true);
/** Markup without tags and inert gaps: what the user reads. */
const plain = (s: string) =>
  s
    .replace(/\{(\/?)[\w\-,;!#]*\}/g, (t) => (t === "{open}" ? "{" : t === "{close}" ? "}" : ""))
    .replaceAll("\u001b[10m", "");

const status: StatusInfo = {
  delay: 0,
  drop: 0.5,
  lost: 3,
  up: [0, 2],
  down: [3],
  unacked: 4,
  held: 2,
  retransmissions: 7,
  panel: false,
  details: false,
  below: 0,
};

describe("colours", () => {
  it("honours NO_COLOR only when set and not empty, and monochrome terminals", () => {
    expect(colorWanted({}, 256)).toBe(true);
    expect(colorWanted({ NO_COLOR: "1" }, 256)).toBe(false);
    expect(colorWanted({ NO_COLOR: "" }, 256)).toBe(true);
    expect(colorWanted({}, 2)).toBe(false);
    expect(colorWanted({}, -1)).toBe(false);
  });

  it("gives a node the same colour every time, and neighbours different ones", () => {
    expect(nodeColor(3)).toBe(nodeColor(3));
    expect(nodeColor(3 + NODE_PALETTE.length)).toBe(nodeColor(3));
    expect(new Set([0, 1, 2, 3, 4].map(nodeColor)).size).toBe(5);
  });

  it("emits no colour tag at all without colour", () => {
    const out = [mono.node(1, "x"), mono.dim("x"), mono.warn("x"), mono.bad("x"), mono.good("x")];
    expect(out.join("")).not.toMatch(/-fg\}|-bg\}/);
    expect(color.node(1, "x")).toContain(`{${nodeColor(1)}-fg}`);
    expect(new Style(true, 8).dim("x")).toBe("x");
  });
});

describe("message lines", () => {
  it("marks own messages and shows their state: sent, delivered, acked k of n", () => {
    const log = new ChatLog(1, 2);
    log.sent(1, "mine", 0);
    const e = log.entries[0] as (typeof log.entries)[number];
    const show = () => plain(formatEntry(e, mono, { peers: 2, details: false }));
    expect(show()).toMatch(/»<node 1> mine · sent, acked 0\/2$/);
    log.acked(1, 1);
    expect(show()).toMatch(/· sent, acked 1\/2$/);
    log.deliver({ from: 1, seq: 1, text: "mine", order: 4 }, 0);
    log.acked(1, 2);
    expect(show()).toMatch(/· delivered, acked 2\/2$/);
    expect(formatEntry(e, color, { peers: 2, details: false })).toContain("{green-fg}");
  });

  it("shows others' messages without a state, and protocol details on request", () => {
    const log = new ChatLog(0, 2);
    log.deliver({ from: 2, seq: 7, text: "hi", vc: [1, 0, 7] }, 0);
    const e = log.entries[0] as (typeof log.entries)[number];
    expect(plain(formatEntry(e, mono, { peers: 2, details: false }))).toMatch(/ <node 2> hi$/);
    expect(plain(formatEntry(e, mono, { peers: 2, details: true }))).toMatch(
      /<node 2> hi \[2#7 vc \[1,0,7\]\]$/,
    );
  });

  it("shows state transfer dimmed under a history separator, then an end mark before live lines", () => {
    const log = new ChatLog(0, 2);
    log.deliver({ from: 0, seq: 1, text: "old own" }, 0, true);
    log.deliver({ from: 1, seq: 1, text: "old" }, 0, true);
    log.deliver({ from: 1, seq: 2, text: "live" }, 0);
    const lines = log.entries.map((e) => plain(formatEntry(e, mono, { peers: 2, details: false })));
    expect(lines[0]).toMatch(/history: what the group said before we joined/);
    expect(lines[1]).toMatch(/ <node 0> old own$/); // an earlier life's: not "own", no state
    expect(lines[3]).toMatch(/end of history/);
    expect(lines[4]).toMatch(/ <node 1> live$/);
    const past = log.entries[2] as (typeof log.entries)[number];
    expect(formatEntry(past, color, { peers: 2, details: false })).toMatch(/^\{/); // dimmed
  });

  it("shows a peer's tags and escapes as text", () => {
    const log = new ChatLog(0, 1);
    log.deliver({ from: 1, seq: 1, text: "{red-bg}\u001b[2J" }, 0);
    const e = log.entries[0] as (typeof log.entries)[number];
    const m = formatEntry(e, color, { peers: 1, details: false });
    expect(m).not.toContain("{red-bg}");
    expect(plain(m)).toMatch(/<node 1> \{red-bg\}\\x1b\[2J$/);
  });
});

describe("ChatLog", () => {
  it("records node events: deliveries, acks, peers, notices", () => {
    const log = new ChatLog(0, 2);
    log.sent(1, "mine", 0);
    applyEvent(log, { type: "peer", peer: 2, state: "up", incarnation: 7 }, 1);
    applyEvent(log, { type: "deliver", from: 2, seq: 1, text: "yo" }, 2);
    applyEvent(log, { type: "acked", seq: 1, peer: 2, by: 1 }, 3);
    applyEvent(log, { type: "notice", level: "warn", msg: "careful" }, 4);
    expect(log.entries.map((e) => e.text)).toEqual([
      "mine",
      "node 2 is up (incarnation 7)",
      "yo",
      "careful",
    ]);
    expect(log.entries[0]).toMatchObject({ acks: 1, delivered: false });
    expect(log.entries[3]).toMatchObject({ kind: "sys", level: "warn" });
  });

  it("moves an own message to its place in the delivery order when it is delivered", () => {
    const log = new ChatLog(0, 2);
    log.sent(1, "mine", 0);
    log.deliver({ from: 1, seq: 1, text: "first" }, 1);
    log.deliver({ from: 0, seq: 1, text: "mine" }, 2);
    expect(log.entries.map((e) => (e.kind === "msg" ? e.text : ""))).toEqual(["first", "mine"]);
    expect(log.entries[1]).toMatchObject({ own: true, delivered: true });
  });

  it("is bounded and forgets state of lines that scrolled out", () => {
    const log = new ChatLog(0, 1, 3);
    for (let i = 1; i <= 5; i++) log.sent(i, `m${i}`, i);
    expect(log.entries).toHaveLength(3);
    log.acked(1, 1);
    log.deliver({ from: 0, seq: 1, text: "m1" }, 9);
    // m1 had scrolled out: its delivery shows as a new line, m2 … m5 keep their place
    expect(log.entries.map((e) => (e.kind === "msg" ? e.text : ""))).toEqual(["m4", "m5", "m1"]);
    const v = log.version;
    log.clear();
    expect(log.entries).toHaveLength(0);
    expect(log.version).toBeGreaterThan(v);
  });
});

describe("bars", () => {
  it("compresses id lists into ranges", () => {
    expect(compressIds([5, 0, 1, 2, 7, 8])).toBe("0-2,5,7-8");
    expect(compressIds([])).toBe("");
    expect(peersText([0, 2], [3])).toBe("peers up 0,2 down 3");
    expect(peersText([], [])).toBe("no peers");
    expect(peersText([1, 3, 5, 7, 9, 11, 13], [])).toBe("peers 7 up");
  });

  it("names the sequencer, or says it is awaited; leaves room for a leader with a term", () => {
    expect(leaderText({ kind: "none" })).toBeUndefined();
    expect(leaderText({ kind: "sequencer", id: 0, self: false, up: false })).toBe(
      "waiting for sequencer (node 0)",
    );
    expect(leaderText({ kind: "sequencer", id: 0, self: false, up: true })).toBe(
      "sequencer: node 0",
    );
    expect(leaderText({ kind: "sequencer", id: 0, self: true, up: false })).toBe(
      "sequencer: this node (0)",
    );
    expect(leaderText({ kind: "leader", id: 2, term: 5, self: false })).toBe(
      "leader: node 2 (term 5)",
    );
    const t = plain(
      titleBar(
        {
          id: 1,
          address: "127.0.0.1:9",
          ordering: "total",
          hosts: 3,
          leader: { kind: "sequencer", id: 0, self: false, up: true },
        },
        mono,
      ),
    );
    expect(t).toBe(" rmchat node 1 @ 127.0.0.1:9 │ total order │ 3 nodes │ sequencer: node 0");
    const info = {
      id: 1,
      address: "127.0.0.1:9",
      ordering: "total" as const,
      hosts: 3,
      leader: { kind: "leader" as const, id: 0, term: 2, self: false },
    };
    expect(plain(titleBar({ ...info, sealed: true }, mono))).toMatch(/│ sealed$/);
    expect(plain(titleBar({ ...info, sealed: false }, mono))).toMatch(/│ not sealed$/);
  });

  it("shows faults, peers and counters, and drops the least important parts when narrow", () => {
    const wide = plain(fitSegments(statusSegments(status, mono), 200));
    expect(wide).toContain("delay 0s drop 0.5 (3 lost)");
    expect(wide).toContain("peers up 0,2 down 3");
    expect(wide).toContain("unacked 4");
    expect(wide).toContain("held 2");
    expect(wide).toContain("rexmit 7");
    expect(wide).toContain("F2 hold-back");
    const narrow = plain(fitSegments(statusSegments(status, mono), 40));
    expect(narrow.length).toBeLessThanOrEqual(40);
    expect(narrow).toContain("drop 0.5");
    expect(narrow).not.toContain("/help");
    const scrolled = plain(fitSegments(statusSegments({ ...status, below: 12 }, mono), 40));
    expect(scrolled).toContain("▼ 12 more");
  });
});

describe("hold-back panel", () => {
  const stats = {
    peers: [
      { id: 0, up: false, incarnation: 0, queued: 1, inFlight: 1, srttMs: undefined, rtoMs: 400 },
    ],
  } as unknown as NodeStats;

  it("lists what waits and for what, inertly", () => {
    const lines = heldPanel(
      "total",
      [{ from: 1, seq: 3, text: "{red-bg}hi", waitingFor: "order number from sequencer 0" }],
      stats,
      mono,
    ).map(plain);
    expect(lines[0]).toBe("hold-back queue (1)");
    expect(lines).toContain("node 1 #3 {red-bg}hi");
    expect(lines).toContain("  needs order number from sequencer 0");
    expect(lines).toContain("node 0 down rtt ? rto 400ms unacked 1");
  });

  it("says so when nothing waits", () => {
    expect(heldPanel("causal", [], stats, mono).map(plain)[1]).toMatch(/^empty/);
    expect(heldPanel("fifo", [], stats, mono).map(plain)[1]).toMatch(/^fifo/);
  });
});

describe("logLine", () => {
  it("turns a JSON log record into a short line with its level", () => {
    expect(
      logLine('{"time":"x","level":"warn","msg":"socket error","node":1,"error":"EPERM"}\n'),
    ).toEqual({ level: "warn", text: "socket error (error=EPERM)" });
    expect(logLine("not json\n")).toEqual({ level: "info", text: "not json" });
  });
});

describe("Scrollback", () => {
  const filled = (n: number, limit = 5000) => {
    const log = new ChatLog(0, 1, limit);
    for (let i = 1; i <= n; i++) log.system("info", `line ${i}`, 0);
    return log;
  };
  const texts = (es: Entry[]) => es.map((e) => e.text);
  const one = () => 1;

  it("hands over only what fills the pane, newest at the bottom", () => {
    const log = filled(5000);
    const sb = new Scrollback();
    expect(texts(sb.window(log, 3, one))).toEqual(["line 4998", "line 4999", "line 5000"]);
    // an entry wrapped over two lines counts twice
    expect(texts(sb.window(log, 3, (e) => (e.text === "line 5000" ? 2 : 1)))).toEqual([
      "line 4999",
      "line 5000",
    ]);
    expect(sb.below(log)).toBe(0);
  });

  it("pages back and forth keeping one entry in view, and follows again at the bottom", () => {
    const log = filled(20);
    const sb = new Scrollback();
    sb.window(log, 5, one);
    sb.page(log, -1);
    expect(texts(sb.window(log, 5, one))).toEqual([
      "line 12",
      "line 13",
      "line 14",
      "line 15",
      "line 16",
    ]);
    expect(sb.below(log)).toBe(4);
    expect(sb.following).toBe(false);
    // new entries do not move a scrolled-back view
    log.system("info", "line 21", 0);
    expect(texts(sb.window(log, 5, one))).toContain("line 16");
    expect(sb.below(log)).toBe(5);
    sb.page(log, 1);
    sb.window(log, 5, one);
    sb.page(log, 1);
    expect(sb.following).toBe(true);
    expect(texts(sb.window(log, 5, one)).at(-1)).toBe("line 21");
  });

  it("stops at the oldest entry and does not scroll a log that fits", () => {
    const log = filled(3);
    const sb = new Scrollback();
    sb.window(log, 10, one);
    sb.page(log, -1);
    expect(sb.following).toBe(true);
    const big = filled(30);
    sb.window(big, 5, one);
    for (let i = 0; i < 20; i++) sb.scroll(big, -3);
    expect(texts(sb.window(big, 5, one))[0]).toBe("line 1");
  });

  it("keeps its place when old entries are trimmed", () => {
    const log = filled(10, 10);
    const sb = new Scrollback();
    sb.window(log, 3, one);
    sb.scroll(log, -3);
    expect(texts(sb.window(log, 3, one))).toEqual(["line 5", "line 6", "line 7"]);
    log.system("info", "line 11", 0);
    expect(texts(sb.window(log, 3, one))).toEqual(["line 5", "line 6", "line 7"]);
  });
});

describe("visibleText", () => {
  it("is what the markup shows", () => {
    expect(visibleText(`{bold}a{/bold} ${inert("{x}")}`)).toBe("a {x}");
  });
});

describe("/peers", () => {
  it("ends with the channel's protection and drops by reason", () => {
    const st = {
      peers: [
        {
          id: 1,
          up: true,
          health: "alive",
          incarnation: 5,
          queued: 0,
          inFlight: 0,
          srttMs: 1,
          rtoMs: 10,
        },
      ],
      dropped: { auth: 3, foreign: 1 },
    } as unknown as NodeStats;
    const hosts = [
      { host: "127.0.0.1", port: 1 },
      { host: "127.0.0.1", port: 2 },
    ];
    const sealed = peersReport(0, hosts, st, { sealed: true, cluster: "web", keys: 2 });
    expect(sealed.at(-1)).toBe(
      "cluster web, sealed (AES-256-GCM, 2 keys in the ring); dropped: auth 3, foreign 1, replay 0, unbound 0",
    );
    const open = peersReport(0, hosts, st, { sealed: false, cluster: "rmchat", keys: 0 });
    expect(open.at(-1)).toContain("not sealed (no keys)");
    expect(peersReport(0, hosts, st)).toHaveLength(2);
  });
});
