/**
 * A tiny data-driven test runner in the form of cockroachdb/datadriven (as etcd raft uses it).
 *
 * A testdata file is a list of cases separated by blank lines. A case is one or more command
 * lines, a `----` line, then the expected output (no blank lines inside). Lines starting with
 * `#` between cases are comments; a comment `# fails: REASON` right before a case marks a
 * known bug: the case must fail (vitest `it.fails`) until the bug is fixed.
 *
 *     take from=1 inc=1 seq=2
 *     take from=1 inc=1 seq=1
 *     ----
 *     > take from=1 inc=1 seq=2
 *     ...
 *
 * State carries from case to case within a file (a scenario reads top to bottom); a command of
 * the test (e.g. `new`) starts afresh. When a case has several commands, each one's output is
 * printed under a `> command` header, so every step shows what it did.
 *
 * `REWRITE=1 npx vitest run test/unit/x.test.ts` rewrites the expected outputs from the actual
 * ones (like datadriven's -rewrite). Review every rewritten output by hand: a rewrite records
 * behaviour, it does not judge it. Cases marked `# fails:` keep their expected output.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import { afterAll, it } from "vitest";

export class Cmd {
  readonly name: string;
  /** Positional arguments (no `=`). */
  readonly args: string[] = [];
  private readonly kv = new Map<string, string>();

  constructor(
    readonly text: string,
    readonly line: number,
  ) {
    const words = text.trim().split(/\s+/);
    this.name = words[0] ?? "";
    for (const w of words.slice(1)) {
      const eq = w.indexOf("=");
      if (eq > 0) this.kv.set(w.slice(0, eq), w.slice(eq + 1));
      else this.args.push(w);
    }
  }

  has(key: string): boolean {
    return this.kv.has(key);
  }

  str(key: string, def?: string): string {
    const v = this.kv.get(key) ?? def;
    if (v === undefined) throw new Error(`${this.name}: missing argument ${key}=`);
    return v;
  }

  num(key: string, def?: number): number {
    const raw = this.kv.get(key);
    if (raw === undefined) {
      if (def === undefined) throw new Error(`${this.name}: missing argument ${key}=`);
      return def;
    }
    if (raw === "inf") return Number.POSITIVE_INFINITY;
    const n = Number(raw);
    if (!Number.isFinite(n)) throw new Error(`${this.name}: ${key}=${raw} is not a number`);
    return n;
  }

  /** `k=1,2,3` (empty: `k=`); `a..b` ranges expand: `k=1..3` is 1,2,3. */
  nums(key: string, def?: number[]): number[] {
    const raw = this.kv.get(key);
    if (raw === undefined) {
      if (def === undefined) throw new Error(`${this.name}: missing argument ${key}=`);
      return def;
    }
    if (raw === "") return [];
    const out: number[] = [];
    for (const part of raw.split(",")) {
      const range = /^(\d+)\.\.(\d+)$/.exec(part);
      if (range) {
        for (let i = Number(range[1]); i <= Number(range[2]); i++) out.push(i);
        continue;
      }
      const n = Number(part);
      if (part === "" || !Number.isFinite(n))
        throw new Error(`${this.name}: ${key}=${raw} is not a number list`);
      out.push(n);
    }
    return out;
  }

  bool(key: string, def = false): boolean {
    const raw = this.kv.get(key);
    return raw === undefined ? def : raw === "true" || raw === "1";
  }
}

export interface Case {
  file: string;
  /** Line of the first command (1-based). */
  line: number;
  cmds: Cmd[];
  expected: string;
  /** `# fails: REASON` before the case: a known bug. */
  fails?: string;
  /** Lines [start, end) of the expected output in the file (for rewriting). */
  outStart: number;
  outEnd: number;
}

export function parseTestdata(file: string, text: string): Case[] {
  const lines = text.split("\n");
  const cases: Case[] = [];
  let i = 0;
  let fails: string | undefined;
  while (i < lines.length) {
    const l = lines[i] as string;
    if (l.trim() === "") {
      i++;
      continue;
    }
    if (l.startsWith("#")) {
      const m = /^#\s*fails:\s*(.+)$/.exec(l);
      if (m) fails = m[1];
      i++;
      continue;
    }
    const start = i;
    const cmds: Cmd[] = [];
    while (i < lines.length && lines[i] !== "----" && (lines[i] as string).trim() !== "") {
      const c = lines[i] as string;
      if (!c.startsWith("#")) cmds.push(new Cmd(c, i + 1));
      i++;
    }
    if (lines[i] !== "----") throw new Error(`${file}:${start + 1}: case without "----"`);
    i++; // ----
    const outStart = i;
    while (i < lines.length && (lines[i] as string).trim() !== "") i++;
    const expected = lines.slice(outStart, i).join("\n");
    cases.push({ file, line: start + 1, cmds, expected, fails, outStart, outEnd: i });
    fails = undefined;
  }
  return cases;
}

/** A line diff (longest common subsequence): `-` expected only, `+` actual only. */
export function lineDiff(expected: string, actual: string): string {
  const a = expected === "" ? [] : expected.split("\n");
  const b = actual === "" ? [] : actual.split("\n");
  const n = a.length;
  const m = b.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let x = n - 1; x >= 0; x--)
    for (let y = m - 1; y >= 0; y--)
      (lcs[x] as number[])[y] =
        a[x] === b[y]
          ? ((lcs[x + 1] as number[])[y + 1] as number) + 1
          : Math.max((lcs[x + 1] as number[])[y] as number, (lcs[x] as number[])[y + 1] as number);
  const out: string[] = [];
  let x = 0;
  let y = 0;
  while (x < n || y < m) {
    if (x < n && y < m && a[x] === b[y]) {
      out.push(`  ${a[x]}`);
      x++;
      y++;
    } else if (
      x < n &&
      (y >= m || ((lcs[x + 1] as number[])[y] as number) >= ((lcs[x] as number[])[y + 1] as number))
    ) {
      out.push(`- ${a[x]}`);
      x++;
    } else {
      out.push(`+ ${b[y]}`);
      y++;
    }
  }
  return out.join("\n");
}

/** Run one case: each command's output, under `> cmd` headers when there are several. */
export function runCase(c: Case, handle: (cmd: Cmd) => string): string {
  const parts: string[] = [];
  for (const cmd of c.cmds) {
    let out: string;
    try {
      out = handle(cmd).replace(/\n+$/, "");
    } catch (e) {
      out = `error: ${(e as Error).message}`;
    }
    if (/\n\s*\n/.test(out) || (out.trim() === "" && out !== ""))
      throw new Error(`${c.file}:${cmd.line}: ${cmd.text}: output has a blank line`);
    if (c.cmds.length > 1) parts.push(`> ${cmd.text}`);
    if (out !== "") parts.push(out);
  }
  return parts.join("\n");
}

/** The failure message: where, which commands, and a diff. */
export function mismatch(c: Case, actual: string): string {
  return [
    `${c.file}:${c.line}: output differs`,
    ...c.cmds.map((cmd) => `  ${cmd.text}`),
    "diff (- expected, + actual):",
    lineDiff(c.expected, actual),
  ].join("\n");
}

/**
 * Register one vitest case per testdata case; `handle` runs a command against the scenario
 * state (kept by the caller) and returns its output.
 */
export function datadriven(path: string, handle: (cmd: Cmd) => string): void {
  const file = basename(path);
  const text = readFileSync(path, "utf8");
  const cases = parseTestdata(file, text);
  const rewrite = process.env.REWRITE === "1";
  const actuals = new Map<Case, string>();
  for (const c of cases) {
    const title = `${file}:${c.line} ${c.cmds.map((x) => x.text).join("; ")}`;
    const body = (): void => {
      const actual = runCase(c, handle);
      actuals.set(c, actual);
      if (rewrite && !c.fails) return;
      if (actual !== c.expected) throw new Error(mismatch(c, actual));
    };
    if (c.fails) it.fails(`${title} [known bug: ${c.fails}]`, body);
    else it(title, body);
  }
  if (rewrite)
    afterAll(() => {
      const lines = text.split("\n");
      // From the last case backwards, so earlier line numbers stay valid.
      for (const c of [...cases].reverse()) {
        const a = actuals.get(c);
        if (a === undefined || c.fails) continue;
        lines.splice(c.outStart, c.outEnd - c.outStart, ...(a === "" ? [] : a.split("\n")));
      }
      writeFileSync(path, lines.join("\n"));
    });
}
