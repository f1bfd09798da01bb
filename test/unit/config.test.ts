import { chmodSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { safeJson, sanitize } from "../../src/chat/sanitize.js";
import {
  ConfigError,
  LIMIT_BOUNDS,
  MEMBERSHIP_BOUNDS,
  parseConfig,
  TOP_KEYS,
} from "../../src/config/config.js";
import { DEFAULT_LIMITS, ORDERINGS } from "../../src/core/types.js";
import { HostsError, parseHostPort, resolveHosts } from "../../src/runtime/resolve.js";
import { BAD_RULES, BAD_SHAPES } from "../helpers/bad-configs.js";
import { validate } from "../helpers/json-schema.js";

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
    expect(c.stateDir).toBeUndefined();
  });
  it("accepts timings that keep every rule, and IPv6 literals", () => {
    const c = parseConfig({
      hosts: [{ host: "::1", port: 1 }],
      membership: { leaseMs: 900, electionTimeoutMs: 1000, heartbeatMs: 50 },
    });
    expect(c.membership).toEqual({ leaseMs: 900, electionTimeoutMs: 1000, heartbeatMs: 50 });
  });
  for (const [name, raw, re] of [...BAD_SHAPES, ...BAD_RULES]) {
    it(`rejects ${name} with one line naming the key`, () => {
      let err: unknown;
      try {
        parseConfig(raw, "c.json");
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      const msg = (err as Error).message;
      expect(msg.startsWith("config c.json: ")).toBe(true);
      expect(msg).not.toContain("\n");
      expect(msg).toMatch(re);
    });
  }
});

describe("host resolution", () => {
  it("finds the same endpoint behind a name and an address", async () => {
    await expect(
      resolveHosts([
        { host: "127.0.0.1", port: 5 },
        { host: "localhost", port: 5 },
      ]),
    ).rejects.toThrow(
      /hosts\[1\] \(localhost:5\) is the same endpoint as hosts\[0\] \(127\.0\.0\.1:5\) once names are resolved/,
    );
    // The same name on different ports is fine.
    const r = await resolveHosts([
      { host: "127.0.0.1", port: 5 },
      { host: "localhost", port: 6 },
    ]);
    expect(r.endpoints).toEqual([
      { address: "127.0.0.1", port: 5 },
      { address: "127.0.0.1", port: 6 },
    ]);
    expect(r.family).toBe(4);
  });
  it("takes IPv6 literals (in the kernel's spelling) and refuses mixed families", async () => {
    const r = await resolveHosts([
      { host: "::1", port: 5 },
      { host: "0:0:0:0:0:0:0:1", port: 6 },
    ]);
    expect(r).toEqual({
      endpoints: [
        { address: "::1", port: 5 },
        { address: "::1", port: 6 },
      ],
      family: 6,
    });
    await expect(
      resolveHosts([
        { host: "127.0.0.1", port: 5 },
        { host: "::1", port: 6 },
      ]),
    ).rejects.toThrow(
      /hosts\[1\]\.host: "::1" is IPv6 but hosts\[0\] is IPv4: use one address family/,
    );
    await expect(resolveHosts([{ host: "no-such-host.invalid", port: 5 }])).rejects.toThrow(
      HostsError,
    );
  });
  it("parses HOST:PORT, [IPv6]:PORT and PORT", () => {
    expect(parseHostPort("10.0.0.1:9100", "127.0.0.1")).toEqual({ host: "10.0.0.1", port: 9100 });
    expect(parseHostPort("[::1]:9100", "127.0.0.1")).toEqual({ host: "::1", port: 9100 });
    expect(parseHostPort("9100", "127.0.0.1")).toEqual({ host: "127.0.0.1", port: 9100 });
    expect(parseHostPort(":9100", "127.0.0.1")).toEqual({ host: "127.0.0.1", port: 9100 });
    for (const bad of ["::1:9100", "host", "host:", "host:99999", "a:b:1", "[::1]"]) {
      expect(parseHostPort(bad, "127.0.0.1")).toBeUndefined();
    }
  });
});

describe("config/rmchat.schema.json", () => {
  const schema = JSON.parse(readFileSync("config/rmchat.schema.json", "utf8")) as Record<
    string,
    unknown
  >;
  const props = schema.properties as Record<string, Record<string, unknown>>;

  for (const file of readdirSync("config").filter((f) => f !== "rmchat.schema.json")) {
    it(`validates the example ${file}, which rmchat also accepts`, () => {
      const raw = JSON.parse(readFileSync(join("config", file), "utf8")) as unknown;
      expect(validate(schema, raw)).toEqual([]);
      expect(() => parseConfig(raw)).not.toThrow();
    });
  }
  for (const [name, raw] of BAD_SHAPES) {
    it(`rejects ${name}, as rmchat does`, () => {
      expect(validate(schema, raw).length).toBeGreaterThan(0);
    });
  }
  it("has exactly the keys and bounds the parser has", () => {
    expect(Object.keys(props).sort()).toEqual([...TOP_KEYS].sort());
    for (const [k, [lo, hi]] of Object.entries(LIMIT_BOUNDS)) {
      expect(props[k]).toMatchObject({ type: "integer", minimum: lo, maximum: hi });
      expect(props[k]?.default).toBe(DEFAULT_LIMITS[k as keyof typeof DEFAULT_LIMITS]);
    }
    const m = (props.membership?.properties ?? {}) as Record<string, Record<string, unknown>>;
    expect(Object.keys(m).sort()).toEqual(Object.keys(MEMBERSHIP_BOUNDS).sort());
    for (const [k, [lo, hi]] of Object.entries(MEMBERSHIP_BOUNDS)) {
      expect(m[k]).toMatchObject({ type: "integer", minimum: lo, maximum: hi });
    }
    expect(props.ordering?.enum).toEqual([...ORDERINGS]);
  });
  it("the validator itself rejects what it should (negative control)", () => {
    const s = {
      type: "object",
      additionalProperties: false,
      required: ["n"],
      properties: {
        n: { type: "integer", minimum: 1, maximum: 3 },
        s: { type: "string", enum: ["a"] },
      },
    };
    expect(validate(s, { n: 2, s: "a" })).toEqual([]);
    expect(validate(s, { n: 1.5 })).toEqual(["$.n: not of type integer"]);
    expect(validate(s, { n: 4 })).toEqual(["$.n: above maximum 3"]);
    expect(validate(s, {})).toEqual(["$.n: required"]);
    expect(validate(s, { n: 1, x: 1 })).toEqual(["$.x: unknown key"]);
    expect(validate(s, { n: 1, s: "b" })).toEqual(["$.s: not in enum"]);
    expect(validate(s, [])).toEqual(["$: not of type object"]);
    expect(() => validate({ pattern: "x" }, "x")).toThrow(/not supported/);
  });
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
