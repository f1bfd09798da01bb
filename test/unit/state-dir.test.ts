import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { defaultStateDir, HardStateFile, StateDirError } from "../../src/runtime/hard-state.js";

const tmp = (): string => mkdtempSync(join(tmpdir(), "rmchat-state-test-"));

describe("defaultStateDir", () => {
  it("prefers $STATE_DIRECTORY, then $XDG_STATE_HOME/rmchat, then the home or /var/lib", () => {
    const all = { STATE_DIRECTORY: "/run/sd/rmchat:/other", XDG_STATE_HOME: "/x/state" };
    expect(defaultStateDir(all, 1000, "/home/u")).toBe("/run/sd/rmchat");
    expect(defaultStateDir({ XDG_STATE_HOME: "/x/state" }, 1000, "/home/u")).toBe(
      "/x/state/rmchat",
    );
    expect(defaultStateDir({ XDG_STATE_HOME: "/x/state" }, 0, "/root")).toBe("/x/state/rmchat");
    // A relative XDG_STATE_HOME is invalid by the spec and ignored.
    expect(defaultStateDir({ XDG_STATE_HOME: "rel" }, 1000, "/home/u")).toBe(
      "/home/u/.local/state/rmchat",
    );
    expect(defaultStateDir({}, 1000, "/home/u")).toBe("/home/u/.local/state/rmchat");
    expect(defaultStateDir({}, 0, "/root")).toBe("/var/lib/rmchat");
  });
});

describe("HardStateFile", () => {
  it("creates its directory with mode 0700 and round-trips term and vote (file mode 0600)", () => {
    const dir = join(tmp(), "a", "b");
    const f = new HardStateFile(dir, "::1", 7);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(f.path).toBe(join(dir, "__1-7.json"));
    expect(f.load()).toBeUndefined();
    f.save({ term: 3, votedFor: 2 });
    expect(f.load()).toEqual({ term: 3, votedFor: 2 });
    expect(statSync(f.path).mode & 0o777).toBe(0o600);
  });
  it("refuses a state file that is a symbolic link instead of following it", () => {
    const dir = tmp();
    const target = join(dir, "elsewhere.json");
    writeFileSync(target, JSON.stringify({ term: 99, votedFor: 1 }));
    symlinkSync(target, join(dir, "127.0.0.1-5.json"));
    const f = new HardStateFile(dir, "127.0.0.1", 5);
    expect(() => f.load()).toThrow(StateDirError);
    expect(() => f.load()).toThrow(/symbolic link/);
  });
  it("does not write through a link planted at its temporary file", () => {
    const dir = tmp();
    const victim = join(dir, "victim");
    writeFileSync(victim, "keep");
    const f = new HardStateFile(dir, "127.0.0.1", 5);
    symlinkSync(victim, `${f.path}.tmp`);
    f.save({ term: 1, votedFor: 0 });
    expect(readFileSync(victim, "utf8")).toBe("keep");
    expect(f.load()).toEqual({ term: 1, votedFor: 0 });
  });
  it("a state directory that is a file, or cannot be created, is a StateDirError", () => {
    const dir = tmp();
    const file = join(dir, "file");
    writeFileSync(file, "");
    expect(() => new HardStateFile(file, "127.0.0.1", 5)).toThrow(StateDirError);
    expect(() => new HardStateFile(join(file, "sub"), "127.0.0.1", 5)).toThrow(
      /cannot use the state directory .*: a path component is not a directory/,
    );
    expect(existsSync(join(file, "sub"))).toBe(false);
  });
  it("an unreadable state file is a StateDirError (not a silent term 0)", () => {
    if (process.getuid?.() === 0) return; // root reads anything; covered by the link case above
    const dir = tmp();
    const f = new HardStateFile(dir, "127.0.0.1", 5);
    f.save({ term: 2, votedFor: 1 });
    chmodSync(f.path, 0);
    expect(() => f.load()).toThrow(/permission denied/);
  });
});
