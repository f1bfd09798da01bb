import { describe, expect, it } from "vitest";
import { safeJson, sanitize } from "../../src/chat/sanitize.js";
import { ConfigError, parseConfig } from "../../src/config/config.js";

describe("config", () => {
  it("accepts the documented shape with defaults", () => {
    const c = parseConfig({ hosts: [{ host: "127.0.0.1", port: 1 }] });
    expect(c.ordering).toBe("causal");
    expect(c.limits.maxMessageBytes).toBe(65536);
  });
  const bad: Array<[unknown, RegExp]> = [
    [[], /JSON object/],
    [{ hosts: [] }, /non-empty/],
    [{ hosts: [{ host: "a", port: 0 }] }, /port/],
    [{ hosts: [{ host: "", port: 1 }] }, /host/],
    [
      {
        hosts: [
          { host: "a", port: 1 },
          { host: "a", port: 1 },
        ],
      },
      /repeats/,
    ],
    [{ hosts: [{ host: "a", port: 1 }], ordering: "lamport" }, /ordering/],
    [{ hosts: [{ host: "a", port: 1 }], window: 0 }, /window/],
    [{ hosts: [{ host: "a", port: 1 }], colour: "red" }, /unknown key "colour"/],
    [{ hosts: [{ host: "a", port: 1 }], rtoMinMs: 500, rtoMaxMs: 100 }, /rtoMinMs/],
  ];
  for (const [raw, re] of bad) {
    it(`rejects ${JSON.stringify(raw)}`, () => {
      expect(() => parseConfig(raw)).toThrow(ConfigError);
      expect(() => parseConfig(raw)).toThrow(re);
    });
  }
});

describe("sanitize", () => {
  it("makes escape sequences, control characters and bidi overrides inert and keeps one line", () => {
    expect(sanitize("a\x1b[2Jb")).toBe("a\\x1b[2Jb");
    expect(sanitize("\x1b]0;pwned\x07")).toBe("\\x1b]0;pwned\\x07");
    expect(sanitize("x\ny\r\tz\u009b")).toBe("x\\ny\\r\\tz\\x9b");
    expect(sanitize("abc\u202eevil")).toBe("abc\\u202eevil");
    expect(sanitize("héllo 世界 🎉")).toBe("héllo 世界 🎉");
  });
  it("safeJson escapes what JSON.stringify leaves raw", () => {
    const s = safeJson({ t: "\u009b2J\u007f" });
    expect(s).toBe('{"t":"\\u009b2J\\u007f"}');
    expect(JSON.parse(s)).toEqual({ t: "\u009b2J\u007f" });
  });
});
