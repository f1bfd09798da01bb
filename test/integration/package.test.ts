import { execFileSync, spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const REPO = resolve(".");
const VERSION = (JSON.parse(readFileSync("package.json", "utf8")) as { version: string }).version;
const work = mkdtempSync(join(tmpdir(), "rmchat-pack-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** npm without the caller's lifecycle settings, no update check, no audit. */
function npm(args: string[], cwd: string): string {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith("npm_") && !k.startsWith("RMCHAT_")),
  );
  return execFileSync("npm", [...args, "--no-update-notifier", "--no-audit", "--no-fund"], {
    cwd,
    env,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 240_000,
  });
}

/**
 * This checkout's node_modules (what `npm ci` installed) for the copy: the production
 * dependencies copied (npm pack bundles them, and must see real directories), the rest
 * (typescript for the build, …) linked.
 */
function linkNodeModules(dest: string): void {
  const lock = JSON.parse(readFileSync("package-lock.json", "utf8")) as {
    packages: Record<string, { dev?: boolean }>;
  };
  const prod = new Set(
    Object.entries(lock.packages)
      .filter(([k, v]) => k.startsWith("node_modules/") && v.dev !== true)
      .map(([k]) => k.slice("node_modules/".length))
      .filter((k) => !k.includes("/node_modules/")),
  );
  const from = join(REPO, "node_modules");
  const to = join(dest, "node_modules");
  mkdirSync(to);
  const place = (name: string): void => {
    if (prod.has(name)) cpSync(join(from, name), join(to, name), { recursive: true });
    else symlinkSync(join(from, name), join(to, name));
  };
  for (const name of readdirSync(from)) {
    if (name.startsWith("@") && [...prod].some((p) => p.startsWith(`${name}/`))) {
      mkdirSync(join(to, name));
      for (const sub of readdirSync(join(from, name))) place(`${name}/${sub}`);
    } else {
      place(name);
    }
  }
}

describe("the npm package", () => {
  it("packs from a clean tree (prepack builds dist/) and installs offline into an empty prefix", () => {
    // A clean copy of the tree as git knows it (no dist/), with this checkout's node_modules
    // (what `npm ci` installed): the worktree's own dist/ is left alone for the other tests.
    const src = join(work, "src-tree");
    const files = execFileSync("git", ["ls-files", "-co", "--exclude-standard", "-z"], {
      cwd: REPO,
      encoding: "utf8",
    })
      .split("\0")
      .filter((f) => f.length > 0 && existsSync(join(REPO, f)));
    for (const f of files) {
      mkdirSync(dirname(join(src, f)), { recursive: true });
      cpSync(join(REPO, f), join(src, f));
    }
    linkNodeModules(src);
    expect(existsSync(join(src, "dist"))).toBe(false);

    const out = join(work, "out");
    mkdirSync(out);
    const packed = JSON.parse(npm(["pack", "--json", "--pack-destination", out], src)) as Array<{
      filename: string;
      size: number;
      files: Array<{ path: string }>;
      bundled: string[];
    }>;
    const info = packed[0];
    if (!info) throw new Error("npm pack printed nothing");
    const all = info.files.map((f) => f.path);
    const paths = all.filter((p) => !p.startsWith("node_modules/"));
    for (const p of [
      "bin/rmchat",
      "dist/cli/main.js",
      "dist/runtime/udp.js",
      "config/default.json",
      "config/rmchat.schema.json",
      "README.md",
      "LICENSE",
      "package.json",
    ]) {
      expect(paths).toContain(p);
    }
    expect(
      paths.filter((p) => /^(test|src|scripts)\//.test(p) || p.startsWith("dist/fuzz/")),
    ).toEqual([]);
    expect(paths.filter((p) => p.endsWith(".map") || p.endsWith(".ts"))).toEqual([]);
    // The dependencies travel inside, so the install needs no registry at all.
    expect(info.bundled.sort()).toEqual(
      expect.arrayContaining(["blessed", "dgram-as-promised", "msgpackr", "yargs"]),
    );

    const prefix = join(work, "prefix");
    mkdirSync(prefix);
    npm(["install", "-g", "--prefix", prefix, "--offline", join(out, info.filename)], work);
    const bin = join(prefix, "bin", "rmchat");
    expect(existsSync(bin)).toBe(true);
    // Run from a directory that is not the repository.
    const cli = (args: string[]) =>
      spawnSync(bin, args, { cwd: work, encoding: "utf8", timeout: 30_000 });
    const v = cli(["--version"]);
    expect(v.status).toBe(0);
    expect(v.stdout.trim()).toBe(VERSION);
    const h = cli(["0", "--help"]);
    expect(h.status).toBe(0);
    expect(h.stdout).toMatch(/rmchat <id> \[delay\] \[drop\]/);
    expect(h.stdout).toMatch(/--metrics/);
    // The runtime dependencies load: a status query runs (nobody answers: exit 1).
    const s = cli(["status", "--addr", "127.0.0.1:9", "--json", "--timeout", "0.2"]);
    expect(s.status).toBe(1);
    expect(JSON.parse(s.stdout)).toEqual([{ answered: false, address: "127.0.0.1:9" }]);
    // Without --config it finds the package's own config/default.json.
    const c = cli(["status", "--json", "--timeout", "0.2"]);
    expect((JSON.parse(c.stdout) as unknown[]).length).toBe(4);
  });
});
