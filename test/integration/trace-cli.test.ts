import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CLI } from "../helpers/procs.js";

const dir = mkdtempSync(join(tmpdir(), "rmchat-trace-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (args: string[], script = CLI) =>
  spawnSync(process.execPath, [script, ...args], { encoding: "utf8", timeout: 60_000 });

/** One line on stderr, the given exit code, no stack trace. */
function oneLine(r: ReturnType<typeof run>, code: number, text: string): void {
  expect(r.status).toBe(code);
  const lines = r.stderr.trim().split("\n");
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toContain(text);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe("rmchat trace and --trace: bad input gets one clear line", () => {
  it("a missing file, a bad line, an empty file", () => {
    const out = join(dir, "x.html");
    oneLine(run(["trace", "--out", out, join(dir, "nope.jsonl")]), 2, "cannot read");
    const bad = join(dir, "bad.jsonl");
    writeFileSync(bad, '{"ev":"send","t":1,"node":0,"inc":1,"seq":1,"text":"a"}\n{"ev":"x"}\n');
    oneLine(run(["trace", "--out", out, bad]), 2, `${bad}:2: not a trace event`);
    const empty = join(dir, "empty.jsonl");
    writeFileSync(empty, "");
    oneLine(run(["trace", "--out", out, empty]), 2, "no trace events");
    expect(existsSync(out)).toBe(false);
  });

  it("an unwritable output, a missing --out", () => {
    const ok = join(dir, "ok.jsonl");
    writeFileSync(ok, '{"ev":"start","t":1,"node":0,"inc":1,"hosts":1,"ordering":"fifo"}\n');
    oneLine(run(["trace", "--out", join(dir, "no/such/dir.html"), ok]), 2, "cannot write");
    const r = run(["trace", ok]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("out");
  });

  it("--trace into a directory that does not exist, or empty", () => {
    const cfg = join(dir, "cfg.json");
    writeFileSync(cfg, JSON.stringify({ hosts: [{ host: "127.0.0.1", port: 1 }] }));
    oneLine(
      run(["0", "--plain", "--config", cfg, "--trace", join(dir, "no/t.jsonl")]),
      2,
      "cannot open the trace file",
    );
    oneLine(run(["0", "--plain", "--config", cfg, "--trace", ""]), 2, "--trace needs a file name");
  });

  it("bench --from: a missing file, not JSON, not a report, no --plot", () => {
    const out = join(dir, "plot.html");
    oneLine(run(["bench", "--from", join(dir, "none.json"), "--plot", out]), 2, "cannot read");
    const junk = join(dir, "junk.json");
    writeFileSync(junk, "{");
    oneLine(run(["bench", "--from", junk, "--plot", out]), 2, `${junk}: not JSON`);
    writeFileSync(junk, '{"rows":3}');
    oneLine(run(["bench", "--from", junk, "--plot", out]), 2, "not a bench report");
    oneLine(run(["bench", "--from", junk]), 2, "--from needs --plot");
    expect(existsSync(out)).toBe(false);
  });

  it("fuzz --diagram writes nothing when every scenario passes", () => {
    const out = join(dir, "fuzz.html");
    const r = run(
      ["--mode", "fifo", "--runs", "2", "--seed", "1", "--diagram", out],
      "dist/fuzz/main.js",
    );
    expect(r.status).toBe(0);
    expect(r.stdout).not.toContain("diagram:");
    expect(existsSync(out)).toBe(false);
  });
});
