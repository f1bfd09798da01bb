import { describe, expect, it } from "vitest";
import type { Ordering } from "../../src/core/types.js";
import { diagramFile } from "../../src/fuzz/diagram.js";
import { showMsg as checkerMsg, type Life, showLife } from "../../src/fuzz/trace.js";
import { Sim } from "../../src/runtime/sim.js";
import { checkRecord, parseTrace, type TraceRecord } from "../../src/trace/events.js";
import { buildDiagram, lifeLabel, showMsg } from "../../src/trace/model.js";
import { datagramHash, TraceRecorder } from "../../src/trace/recorder.js";
import { renderDiagram } from "../../src/trace/render.js";

/** A simulated run with a recorder attached: 3 nodes, each sends `count`. */
function simRun(ordering: Ordering, drop: number, count = 5, seed = 7, traced = true) {
  const records: TraceRecord[] = [];
  const tracer = traced ? new TraceRecorder((r) => records.push(r), 3) : undefined;
  const sim = new Sim({ seed, hosts: 3, ordering, faults: { delay: 0.002, drop }, tracer });
  for (let i = 0; i < 3; i++)
    for (let k = 0; k < count; k++) sim.at(5 + k * 2 + i, () => sim.send(i, `m${i}.${k}`));
  sim.run(200);
  expect(sim.runUntilQuiet(60_000)).toBe(true);
  // Quiet means nothing unacknowledged, not nothing on the wire: with 0–4 ms of jitter a
  // resend of data that was only late can still be on its way. Let it land.
  sim.run(sim.now + 20);
  return { records, sim };
}

const count = (html: string, prefix: string): number => html.split(prefix).length - 1;

describe("trace records from the simulator", () => {
  it("every record passes validation, and the lives, sends and deliveries are all there", () => {
    const { records } = simRun("causal", 0);
    for (const r of records) expect(checkRecord(JSON.parse(JSON.stringify(r))).ok).toBe(true);
    expect(records.filter((r) => r.ev === "start")).toHaveLength(3);
    expect(records.filter((r) => r.ev === "send")).toHaveLength(15);
    expect(records.filter((r) => r.ev === "deliver")).toHaveLength(45);
    const d = records.find((r) => r.ev === "deliver" && r.from !== r.node);
    expect(d && d.ev === "deliver" && d.vc).toHaveLength(3);
    // Datagrams name the chat messages they carry, and the receiver sees the same bytes.
    const out = records.filter((r) => r.ev === "dgram" && r.msgs.some((m) => m.kind === "chat"));
    expect(out.length).toBeGreaterThan(0);
    const recvHashes = new Set(records.flatMap((r) => (r.ev === "recv" ? [r.hash] : [])));
    for (const o of out) if (o.ev === "dgram") expect(recvHashes.has(o.hash)).toBe(true);
  });

  it("marks as retransmissions what the nodes count as such; loss shows as drops", () => {
    for (const drop of [0, 0.3]) {
      const { records, sim } = simRun("fifo", drop);
      const drops = records.filter((r) => r.ev === "dgram" && r.drop === "fault");
      expect(drops.length > 0).toBe(drop > 0);
      for (let i = 0; i < 3; i++) {
        // One datagram may carry several retransmitted entries (bundling).
        const counted = sim.node(i)?.stats().retransmissions ?? 0;
        const marked = records.filter((r) => r.ev === "dgram" && r.node === i && r.retx).length;
        expect(marked).toBeLessThanOrEqual(counted);
        expect(marked > 0).toBe(counted > 0);
      }
    }
    const lossy = simRun("fifo", 0.3).records;
    expect(lossy.filter((r) => r.ev === "dgram" && r.retx).length).toBeGreaterThan(0);
  });

  it("total mode: deliveries carry their order number; submits and appends are named", () => {
    const { records } = simRun("total", 0);
    const orders = records.flatMap((r) => (r.ev === "deliver" && r.node === 0 ? [r.order] : []));
    expect(orders).toEqual(
      orders.map((_, i) => orders[0] !== undefined && (orders[0] as number) + i),
    );
    const kinds = new Set(
      records.flatMap((r) => (r.ev === "dgram" ? r.msgs.map((m) => m.kind) : [])),
    );
    expect(kinds.has("append")).toBe(true);
  });

  it("the recorder draws no random numbers: a traced run is the same run", () => {
    const { sim } = simRun("fifo", 0.2, 5, 3);
    const plain = simRun("fifo", 0.2, 5, 3, false).sim;
    expect(JSON.stringify(sim.history)).toBe(JSON.stringify(plain.history));
  });
});

describe("parseTrace", () => {
  const ok = '{"ev":"send","t":1,"node":0,"inc":5,"seq":1,"text":"hi"}';
  it("reads JSON lines and names a bad line", () => {
    expect(parseTrace(`${ok}\n${ok}\n`, "f").records).toHaveLength(2);
    expect(() => parseTrace(`${ok}\n{"ev":"send"}\n`, "f.jsonl")).toThrow(
      "f.jsonl:2: not a trace event (send: t, node and inc must be numbers)",
    );
    expect(() => parseTrace(`${ok}\nnope\n${ok}\n`, "f")).toThrow("f:2: not JSON");
    expect(() => parseTrace('{"ev":"teleport","t":1,"node":0,"inc":1}\n', "f")).toThrow(
      'unknown event "teleport"',
    );
  });
  it("skips only an unfinished last line (a killed process)", () => {
    const r = parseTrace(`${ok}\n{"ev":"se`, "f");
    expect(r).toMatchObject({ skipped: 1 });
    expect(r.records).toHaveLength(1);
  });
});

/** A hand-written trace: node 1 restarts, node 0's message is dropped once and retransmitted. */
function handTrace(): TraceRecord[] {
  const b = (node: number, inc: number) => ({ node, inc });
  const dg = (t: number, hash: string, retx: boolean, drop?: "fault"): TraceRecord => ({
    ev: "dgram",
    t,
    ...b(0, 10),
    to: 1,
    hash,
    bytes: 50,
    msgs: [{ from: 0, seq: 1, kind: "chat" }],
    retx,
    ...(drop ? { drop } : {}),
  });
  return [
    { ev: "start", t: 0, ...b(0, 10), hosts: 2, ordering: "fifo" },
    { ev: "start", t: 0, ...b(1, 20), hosts: 2, ordering: "fifo" },
    { ev: "view", t: 1, ...b(0, 10), term: 1, version: 1, members: [0, 1] },
    { ev: "leader", t: 1, ...b(1, 20), term: 1, leader: 0 },
    { ev: "send", t: 2, ...b(0, 10), seq: 1, text: "hello" },
    { ev: "deliver", t: 2, ...b(0, 10), from: 0, seq: 1, text: "hello" },
    dg(2, "aaaa0001", false, "fault"),
    dg(8, "aaaa0002", true),
    {
      ev: "recv",
      t: 9,
      ...b(1, 20),
      from: 0,
      hash: "aaaa0002",
      bytes: 50,
      msgs: [{ from: 0, seq: 1, kind: "chat" }],
    },
    { ev: "deliver", t: 12, ...b(1, 20), from: 0, seq: 1, text: "hello" },
    { ev: "send", t: 13, ...b(0, 10), seq: 2, text: "world" },
    { ev: "deliver", t: 13, ...b(0, 10), from: 0, seq: 2, text: "world" },
    // node 1's first life ends without a word; its second life starts.
    { ev: "start", t: 20, ...b(1, 21), hosts: 2, ordering: "fifo" },
    { ev: "deliver", t: 22, ...b(1, 21), from: 0, seq: 2, text: "world" },
    { ev: "stop", t: 30, ...b(0, 10) },
  ];
}

describe("buildDiagram", () => {
  it("one lane per life, a restart marked, arrows, a drop, a retransmission, a hold-back bar", () => {
    const d = buildDiagram(handTrace());
    expect(d.lanes.map((l) => [l.node, l.inc, l.life, l.end])).toEqual([
      [0, 10, 1, "stop"],
      [1, 20, 1, "killed"],
      [1, 21, 2, "open"],
    ]);
    expect(d.marks.filter((m) => m.kind === "restart").map((m) => m.lane)).toEqual([2]);
    expect(d.marks.filter((m) => m.kind === "killed").map((m) => m.lane)).toEqual([1]);
    const msg = d.arrows.filter((a) => a.kind === "msg");
    expect(msg.map((a) => [a.from, a.to, a.t, a.t2])).toEqual([
      [0, 1, 2, 12],
      [0, 2, 13, 22],
    ]);
    expect(d.drops).toHaveLength(1);
    expect(d.drops[0]).toMatchObject({ from: 0, to: 1, t: 2, control: false });
    const retx = d.arrows.filter((a) => a.kind === "retx");
    expect(retx.map((a) => [a.from, a.to, a.t, a.t2])).toEqual([[0, 1, 8, 9]]);
    expect(d.holds.map((h) => [h.lane, h.t, h.t2])).toEqual([[1, 9, 12]]);
    const detail = d.details[(msg[0] as { detail: number }).detail] as string;
    expect(detail).toContain('0#1 "hello"');
    expect(detail).toContain("held back 3.000 ms");
    expect(detail).toContain("view none yet");
    expect(d.counts).toMatchObject({ messages: 2, deliveries: 4, drops: 1, retransmissions: 1 });
    // The first view and the first leader of a term are drawn across all lanes.
    expect(d.epochs.map((e) => [e.kind, e.t, e.label])).toEqual([
      ["view", 1, "view 1.1"],
      ["leader", 1, "term 1: node 0"],
    ]);
  });

  it("a rejoin (same process, new incarnation) ends the old lane as rejoined; state transfer is marked", () => {
    const tr = handTrace().map((r) =>
      r.ev === "start" && r.inc === 21 ? { ...r, rejoin: "left out of the view" } : r,
    );
    tr.push({
      ev: "deliver",
      t: 23,
      node: 1,
      inc: 21,
      from: 0,
      seq: 1,
      text: "hello",
      history: true,
    });
    const d = buildDiagram(tr);
    expect(d.lanes.map((l) => l.end)).toEqual(["stop", "rejoined", "open"]);
    expect(d.lanes[2]?.rejoin).toBe("left out of the view");
    const h = d.arrows.filter((a) => a.kind === "history");
    expect(h.map((a) => [a.from, a.to, a.t2])).toEqual([[0, 2, 23]]);
    expect(d.details[(h[0] as { detail: number }).detail]).toContain("state transfer");
    expect(renderDiagram(d)).toContain("node 1 · life 2 (rejoin)");
  });

  it("the recorder turns sent, rejoin, deliver, view and leader events into records", () => {
    const out: TraceRecord[] = [];
    const rec = new TraceRecorder((r) => out.push(r), 2, 1000);
    rec.start(0, 1, 5, "total");
    rec.event(1, 1, 5, { type: "sent", seq: 1, text: "a" });
    rec.event(2, 1, 5, { type: "rejoin", incarnation: 6, reason: "why" });
    rec.event(3, 1, 6, {
      type: "deliver",
      from: 0,
      seq: 2,
      text: "b",
      order: 7,
      inc: 4,
      history: true,
    });
    rec.event(4, 1, 6, { type: "view", term: 1, version: 2, members: [0, 1], incs: [4, 6] });
    rec.event(5, 1, 6, { type: "leader", term: 1, leader: 0 });
    rec.event(6, 1, 6, { type: "health", peer: 0, from: "alive", to: "suspect" });
    expect(out).toEqual([
      { ev: "start", t: 1000, node: 1, inc: 5, hosts: 2, ordering: "total" },
      { ev: "send", t: 1001, node: 1, inc: 5, seq: 1, text: "a" },
      { ev: "start", t: 1002, node: 1, inc: 6, hosts: 2, ordering: "total", rejoin: "why" },
      {
        ev: "deliver",
        t: 1003,
        node: 1,
        inc: 6,
        from: 0,
        seq: 2,
        text: "b",
        order: 7,
        fromInc: 4,
        history: true,
      },
      { ev: "view", t: 1004, node: 1, inc: 6, term: 1, version: 2, members: [0, 1] },
      { ev: "leader", t: 1005, node: 1, inc: 6, term: 1, leader: 0 },
    ]);
    for (const r of out) expect(checkRecord(r).ok).toBe(true);
  });

  it("highlights what a violation names: the deliveries that disagree, the message missing", () => {
    const tr = handTrace();
    const none = buildDiagram(tr);
    expect(none.arrows.some((a) => a.hot) || none.marks.some((m) => m.hot)).toBe(false);
    const v = buildDiagram(tr, {
      violations: ['validity: live node 1 (inc 21) never delivered 0#1 "hello" (sent at t=2)'],
    });
    const missing = v.marks.filter((m) => m.kind === "missing");
    expect(missing.map((m) => m.lane)).toEqual([2]);
    expect(v.marks.find((m) => m.kind === "send" && m.hot)?.t).toBe(2);
    // The delivery at the other life (inc 20) is not named, so not highlighted.
    expect(v.arrows.some((a) => a.hot)).toBe(false);
    const w = buildDiagram(tr, {
      violations: ['total: node 1 (inc 20) delivered 0#1 "hello" before …'],
    });
    expect(w.arrows.filter((a) => a.hot).map((a) => a.to)).toEqual([1]);
    // "10#1" must not match message 0#1.
    const x = buildDiagram(tr, { violations: ['node 1 (inc 20) delivered 10#1 "hello"'] });
    expect(x.arrows.some((a) => a.hot)).toBe(false);
  });
});

describe("renderDiagram", () => {
  it("draws every lane and arrow, stands alone, and keeps texts out of the markup", () => {
    const tr = handTrace();
    tr.push({ ev: "send", t: 25, node: 0, inc: 10, seq: 3, text: "</script><b>x</b>" });
    const d = buildDiagram(tr);
    const html = renderDiagram(d);
    expect(count(html, '<line class="life"')).toBe(3);
    expect(count(html, '<line class="a ')).toBe(2);
    expect(count(html, '<line class="r ')).toBe(1);
    expect(count(html, '<line class="x ')).toBe(1);
    expect(count(html, '<rect class="h ')).toBe(1);
    expect(html).not.toContain("<b>x</b>");
    expect(count(html, "</script>")).toBe(2);
    // Nothing is fetched: no external URL besides the SVG namespace, a CSP forbids the rest.
    expect(html.replace('xmlns="http://www.w3.org/2000/svg"', "")).not.toMatch(/https?:\/\//);
    expect(html).toContain("default-src 'none'");
  });

  it("the hash joins equal bytes only", () => {
    expect(datagramHash(Uint8Array.of(1, 2, 3))).toBe(datagramHash(Uint8Array.of(1, 2, 3)));
    expect(datagramHash(Uint8Array.of(1, 2, 3))).not.toBe(datagramHash(Uint8Array.of(1, 2, 4)));
  });
});

describe("fuzz --diagram file names", () => {
  it("one mode: the file as given; several: the mode before the extension", () => {
    expect(diagramFile("out.html", "fifo", false)).toBe("out.html");
    expect(diagramFile("out.html", "fifo", true)).toBe("out-fifo.html");
    expect(diagramFile("d.x/out", "total", true)).toBe("d.x/out-total");
  });
});

describe("labels", () => {
  it("the diagram names messages and lives exactly as the checkers do (violations are matched by name)", () => {
    for (const text of ["", "hi", "n0.1|abcdefghijklmnop", "😀".repeat(20)])
      expect(showMsg(3, 17, text)).toBe(checkerMsg(3, 17, text));
    const life: Life = {
      key: "2@1003",
      node: 2,
      inc: 1003,
      idx: 0,
      first: true,
      via: "start",
      begin: 0,
      live: true,
    };
    expect(lifeLabel(2, 1003)).toBe(showLife(life));
  });
});
