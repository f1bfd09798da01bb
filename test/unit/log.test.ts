import { describe, expect, it } from "vitest";
import { formatEvent } from "../../src/chat/plain.js";
import { jsonEvent } from "../../src/chat/sanitize.js";
import { Logger, logRecord } from "../../src/log.js";

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe("log records", () => {
  it("start with time (ISO 8601), level and msg; fields cannot overwrite them", () => {
    const lines: string[] = [];
    const log = new Logger("info", { node: 3, level: "base" }, (l) => lines.push(l));
    log.warn("socket error", { time: "forged", msg: "forged", error: "EPERM" });
    log.debug("not shown");
    expect(lines).toHaveLength(1);
    const line = lines[0] as string;
    expect(line.endsWith("\n")).toBe(true);
    const rec = JSON.parse(line) as Record<string, unknown>;
    expect(Object.keys(rec).slice(0, 3)).toEqual(["time", "level", "msg"]);
    expect(rec.time).toMatch(ISO);
    expect(rec.level).toBe("warn");
    expect(rec.msg).toBe("socket error");
    expect(rec["fields.time"]).toBe("forged");
    expect(rec["fields.msg"]).toBe("forged");
    expect(rec["fields.level"]).toBe("base");
    expect(rec.node).toBe(3);
    expect(rec.error).toBe("EPERM");
  });
  it("a __proto__ field is a plain key", () => {
    const rec = logRecord(new Date(0), "info", "m", JSON.parse('{"__proto__":{"level":"x"}}'));
    expect(rec.level).toBe("info");
    expect(JSON.parse(JSON.stringify(rec))).toEqual({
      time: "1970-01-01T00:00:00.000Z",
      level: "info",
      msg: "m",
      ["__proto__"]: { level: "x" },
    });
  });
});

describe("--json events", () => {
  it("carry time and event first, which fields cannot replace", () => {
    const s = jsonEvent("deliver", { event: "x", time: "y", from: 1 }, new Date(0));
    expect(s).toBe('{"time":"1970-01-01T00:00:00.000Z","event":"deliver","from":1}');
  });
  it("every event line mode prints has a time", () => {
    const evs = [
      { type: "deliver", from: 1, seq: 1, text: "hi" },
      { type: "leader", term: 2, leader: 1 },
      { type: "view", term: 2, version: 1, members: [1, 0] },
      { type: "health", peer: 1, from: "alive", to: "dead" },
      { type: "peer", peer: 1, state: "up", incarnation: 5 },
      { type: "notice", level: "info", msg: "m" },
    ] as const;
    for (const ev of evs) {
      const line = formatEvent(ev as Parameters<typeof formatEvent>[0], true);
      const o = JSON.parse(line as string) as Record<string, unknown>;
      expect(o.time).toMatch(ISO);
      expect(o.event).toBe(ev.type);
    }
  });
});
