import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { renderBlock, replaceBlock, writeHostsFile } from "../../src/agent/hosts-file.js";
import { hostTable, validName } from "../../src/agent/table.js";

const hosts = [{ host: "10.0.0.1" }, { host: "10.0.0.2" }, { host: "10.0.0.3" }];

describe("host table", () => {
  it("NAME-0 is the view's first member (the leader), then the view order", () => {
    expect(hostTable("nb", [2, 0, 1], hosts)).toEqual([
      { name: "nb-0", id: 2, host: "10.0.0.3" },
      { name: "nb-1", id: 0, host: "10.0.0.1" },
      { name: "nb-2", id: 1, host: "10.0.0.2" },
    ]);
  });
  it("accepts host-name labels only", () => {
    expect(validName("notebook")).toBe(true);
    expect(validName("a-b1")).toBe(true);
    expect(validName("-x")).toBe(false);
    expect(validName("a b")).toBe(false);
    expect(validName("x\nevil")).toBe(false);
  });
});

describe("hosts file", () => {
  const table = hostTable("nb", [1, 0], hosts);
  const block = renderBlock("nb", { term: 3, version: 2 }, table);
  it("replaces only the marked block and keeps the rest of the file", () => {
    const before =
      "127.0.0.1 localhost\n# BEGIN rmchat nb (old)\n1.2.3.4 nb-0\n# END rmchat nb\n::1 ip6-localhost\n";
    const after = replaceBlock(before, "nb", block);
    expect(after).toBe(`127.0.0.1 localhost\n${block}::1 ip6-localhost\n`);
    expect(after).toContain("10.0.0.2 nb-0  # node 1");
    expect(replaceBlock("", "nb", block)).toBe(block);
    expect(replaceBlock("a\n", "other", block)).toBe(`a\n${block}`);
  });
  it("writes atomically, keeping the file's mode, and leaves it untouched when nothing changed", () => {
    const dir = mkdtempSync(join(tmpdir(), "rmchat-hosts-"));
    const path = join(dir, "hosts");
    writeFileSync(path, "127.0.0.1 localhost\n", { mode: 0o640 });
    writeHostsFile(path, "nb", { term: 3, version: 2 }, table);
    const text = readFileSync(path, "utf8");
    expect(text.startsWith("127.0.0.1 localhost\n# BEGIN rmchat nb")).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o640);
    const mtime = statSync(path).mtimeMs;
    writeHostsFile(path, "nb", { term: 3, version: 2 }, table);
    expect(statSync(path).mtimeMs).toBe(mtime);
  });
});
