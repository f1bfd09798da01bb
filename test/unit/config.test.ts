import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { safeJson, sanitize } from "../../src/chat/sanitize.js";
import { ConfigError, parseConfig } from "../../src/config/config.js";

const KEY = Buffer.alloc(32, 7).toString("base64");

describe("config", () => {
  it("cluster defaults to rmchat and keys to none; keys are 32 bytes of base64", () => {
    const c = parseConfig({ hosts: [{ host: "127.0.0.1", port: 1 }] });
    expect(c.cluster).toBe("rmchat");
    expect(c.keys).toEqual([]);
    const k = parseConfig({ hosts: [{ host: "a", port: 1 }], cluster: "web", keys: [KEY] });
    expect(k.cluster).toBe("web");
    expect([...(k.keys[0] as Uint8Array)]).toEqual(new Array(32).fill(7));
  });
  it("reads a key file (one key a line) only when group and others cannot read it", () => {
    const dir = mkdtempSync(join(tmpdir(), "rmchat-keys-"));
    const file = join(dir, "keys");
    writeFileSync(file, `# primary first\n${KEY}\n\n${Buffer.alloc(32, 9).toString("base64")}\n`);
    chmodSync(file, 0o600);
    const c = parseConfig(
      { hosts: [{ host: "a", port: 1 }], keyFile: "keys" },
      join(dir, "c.json"),
    );
    expect(c.keys.length).toBe(2);
    expect(c.keyFile).toBe(file);
    chmodSync(file, 0o640);
    expect(() => parseConfig({ hosts: [{ host: "a", port: 1 }], keyFile: file })).toThrow(
      /readable or writable by group or others \(mode 640\); run chmod 600/,
    );
    chmodSync(file, 0o600);
    writeFileSync(file, "not a key\n");
    expect(() => parseConfig({ hosts: [{ host: "a", port: 1 }], keyFile: file })).toThrow(
      /line 1: the key is not base64/,
    );
    expect(() =>
      parseConfig({ hosts: [{ host: "a", port: 1 }], keyFile: join(dir, "none") }),
    ).toThrow(/key file not found/);
  });
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
    [{ hosts: [{ host: "a", port: 1 }], cluster: "" }, /"cluster"/],
    [{ hosts: [{ host: "a", port: 1 }], cluster: "a b" }, /"cluster"/],
    [{ hosts: [{ host: "a", port: 1 }], keys: [] }, /"keys" must be a non-empty/],
    [{ hosts: [{ host: "a", port: 1 }], keys: ["c2hvcnQ="] }, /keys\[0\] is 5 bytes, not 32/],
    [{ hosts: [{ host: "a", port: 1 }], keys: ["!!"] }, /keys\[0\] is not base64/],
    [{ hosts: [{ host: "a", port: 1 }], keys: [KEY], keyFile: "k" }, /either "keys" or "keyFile"/],
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
