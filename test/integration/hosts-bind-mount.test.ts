import { execFileSync } from "node:child_process";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { isMountPoint, writeHostsFile } from "../../src/agent/hosts-file.js";

const mounted: string[] = [];
afterEach(() => {
  for (const m of mounted.splice(0)) execFileSync("umount", [m]);
});

/** Bind-mount `src` over `dst` as a container runtime does with /etc/hosts; the reason when not permitted. */
function bindMount(src: string, dst: string): string | undefined {
  if (process.getuid?.() !== 0) return "not root: mount --bind needs CAP_SYS_ADMIN";
  try {
    execFileSync("mount", ["--bind", src, dst], { stdio: "pipe" });
  } catch (e) {
    return `mount --bind not permitted here: ${String((e as { stderr?: Buffer }).stderr ?? e).trim()}`;
  }
  mounted.push(dst);
  return undefined;
}

describe("hosts file on a bind mount (as in a container)", () => {
  it("rename over it fails with EBUSY; the agent rewrites it in place, truncates, and leaves no temporary file", (ctx) => {
    const dir = mkdtempSync(join(tmpdir(), "rmchat-bind-"));
    const etc = join(dir, "etc");
    const outside = join(dir, "outside");
    mkdirSync(etc);
    mkdirSync(outside);
    const hosts = join(etc, "hosts");
    const source = join(outside, "hosts-of-this-container");
    writeFileSync(hosts, "placeholder\n");
    writeFileSync(source, "127.0.0.1 localhost\n# the admin's line\n");
    const why = bindMount(source, hosts);
    if (why) {
      if (process.env.CI === "1") throw new Error(`CI=1 needs this test to run: ${why}`);
      process.stderr.write(`skipped: ${why}\n`);
      ctx.skip();
      return;
    }
    expect(isMountPoint(hosts)).toBe(true);
    expect(isMountPoint(source)).toBe(false);
    // The problem, reproduced: the old atomic rename cannot replace a mount point.
    const probe = join(etc, "probe");
    writeFileSync(probe, "x\n");
    expect(() => renameSync(probe, hosts)).toThrow(/EBUSY/);
    execFileSync("rm", [probe]);

    const big = [0, 1, 2, 3, 4].map((id) => ({
      name: `web-${id}`,
      id,
      host: `10.200.0.${10 + id}`,
    }));
    expect(writeHostsFile(hosts, "web", { term: 1, version: 1 }, big)).toBe("in-place");
    const first = readFileSync(hosts, "utf8");
    expect(first).toContain("# the admin's line");
    expect(first).toContain("10.200.0.14 web-4  # node 4");
    // The container's file (the mount's source) is what changed: same inode, rewritten.
    expect(readFileSync(source, "utf8")).toBe(first);
    // A shorter table: the file is truncated, nothing of the longer one is left at its end.
    const small = big.slice(0, 2);
    expect(writeHostsFile(hosts, "web", { term: 2, version: 1 }, small)).toBe("in-place");
    const second = readFileSync(hosts, "utf8");
    expect(second).not.toContain("web-4");
    expect(second.endsWith("# END rmchat web\n")).toBe(true);
    expect(second.length).toBeLessThan(first.length);
    expect(readdirSync(etc)).toEqual(["hosts"]);
    expect(readdirSync(outside)).toEqual(["hosts-of-this-container"]);
    // Unchanged table: no write at all.
    expect(writeHostsFile(hosts, "web", { term: 2, version: 1 }, small)).toBe("unchanged");
  });

  it("a plain file is still replaced atomically by rename", () => {
    const dir = mkdtempSync(join(tmpdir(), "rmchat-plain-"));
    const hosts = join(dir, "hosts");
    writeFileSync(hosts, "127.0.0.1 localhost\n");
    expect(isMountPoint(hosts)).toBe(false);
    expect(
      writeHostsFile(hosts, "web", { term: 1, version: 1 }, [
        { name: "web-0", id: 0, host: "10.0.0.1" },
      ]),
    ).toBe("renamed");
    expect(readdirSync(dir)).toEqual(["hosts"]);
  });
});
