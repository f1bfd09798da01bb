import { describe, expect, it } from "vitest";
import { COMMANDS, completeCommand, parseCommand, suggest } from "../../src/chat/commands.js";

describe("parseCommand", () => {
  it("ignores empty and blank lines", () => {
    expect(parseCommand("")).toEqual({ kind: "none" });
    expect(parseCommand("   \t ")).toEqual({ kind: "none" });
  });

  it("sends ordinary text as is, including surrounding spaces and multi-byte text", () => {
    expect(parseCommand("hello")).toEqual({ kind: "say", text: "hello" });
    expect(parseCommand("  héllo 日本 🎉 ")).toEqual({ kind: "say", text: "  héllo 日本 🎉 " });
  });

  it("sends text starting with / through // and /say", () => {
    expect(parseCommand("//etc/hosts")).toEqual({ kind: "say", text: "/etc/hosts" });
    expect(parseCommand("/say /drop 1")).toEqual({ kind: "say", text: "/drop 1" });
    expect(parseCommand("/say")).toMatchObject({ kind: "error" });
  });

  it("knows every command in the help table, and aliases", () => {
    for (const name of ["help", "peers", "stats", "held", "clear", "quit"]) {
      expect(parseCommand(`/${name}`)).toEqual({ kind: name });
    }
    expect(parseCommand("/QUIT")).toEqual({ kind: "quit" });
    expect(parseCommand("/exit")).toEqual({ kind: "quit" });
    expect(parseCommand("/q")).toEqual({ kind: "quit" });
    expect(parseCommand("/?")).toEqual({ kind: "help" });
    for (const c of COMMANDS) expect(parseCommand(`/${c.name} 0.1`).kind).not.toBe("error");
  });

  it("parses /drop as a probability, with or without %", () => {
    expect(parseCommand("/drop 0.5")).toEqual({ kind: "drop", value: 0.5 });
    expect(parseCommand("/drop   .25 ")).toEqual({ kind: "drop", value: 0.25 });
    expect(parseCommand("/drop 10%")).toEqual({ kind: "drop", value: 0.1 });
    expect(parseCommand("/drop 0")).toEqual({ kind: "drop", value: 0 });
    expect(parseCommand("/drop")).toEqual({ kind: "drop", value: undefined });
  });

  it("rejects a bad /drop with the range in the hint", () => {
    for (const bad of ["/drop 1", "/drop 1.5", "/drop -0.1", "/drop 100%"]) {
      const c = parseCommand(bad);
      expect(c.kind).toBe("error");
      expect(c.kind === "error" && c.message).toContain("[0, 1)");
    }
    for (const bad of ["/drop abc", "/drop 0x1", "/drop 0.1.2", "/drop Infinity", "/drop NaN"]) {
      const c = parseCommand(bad);
      expect(c).toMatchObject({ kind: "error" });
      expect(c.kind === "error" && c.message).toMatch(/^\/drop needs a probability/);
    }
  });

  it("parses /delay in seconds or ms and rejects negatives and junk", () => {
    expect(parseCommand("/delay 0.2")).toEqual({ kind: "delay", value: 0.2 });
    expect(parseCommand("/delay 2s")).toEqual({ kind: "delay", value: 2 });
    expect(parseCommand("/delay 250ms")).toEqual({ kind: "delay", value: 0.25 });
    expect(parseCommand("/delay 250 ms")).toEqual({ kind: "delay", value: 0.25 });
    expect(parseCommand("/delay")).toEqual({ kind: "delay", value: undefined });
    expect(parseCommand("/delay -1")).toMatchObject({ kind: "error" });
    expect(parseCommand("/delay soon")).toMatchObject({ kind: "error" });
    expect(parseCommand("/delay 1e999")).toMatchObject({ kind: "error" });
  });

  it("answers a mistyped command with a one-line hint naming the likely command", () => {
    const c = parseCommand("/dorp 0.1");
    expect(c.kind).toBe("error");
    const msg = c.kind === "error" ? c.message : "";
    expect(msg).toContain("unknown command /dorp");
    expect(msg).toContain("did you mean /drop?");
    expect(msg).not.toContain("\n");
    expect(parseCommand("/")).toMatchObject({ kind: "error" });
    const far = parseCommand("/xyzzy");
    expect(far.kind === "error" && far.message).not.toContain("did you mean");
  });

  it("keeps hints short and on one line even for hostile command names", () => {
    const c = parseCommand(`/${"a".repeat(5000)}\u001b[2J`);
    expect(c.kind).toBe("error");
    expect(c.kind === "error" && c.message.length).toBeLessThan(200);
  });
});

describe("suggest and completeCommand", () => {
  it("suggests by prefix and by small edit distance", () => {
    expect(suggest("sta")).toBe("stats");
    expect(suggest("pers")).toBe("peers");
    expect(suggest("qiut")).toBe("quit");
    expect(suggest("delya")).toBe("delay");
    expect(suggest("completely-different")).toBeUndefined();
  });

  it("completes a unique command prefix and leaves ambiguous ones", () => {
    expect(completeCommand("/st")).toBe("/stats ");
    expect(completeCommand("/d")).toBeUndefined();
    expect(completeCommand("/dr")).toBe("/drop ");
    expect(completeCommand("hello")).toBeUndefined();
    expect(completeCommand("/drop 0")).toBeUndefined();
  });
});
