import { describe, expect, it } from "vitest";
import { lineDiff, mismatch, parseTestdata, runCase } from "../helpers/datadriven.js";

const SAMPLE = `# a comment
add a=1 b=2
----
3

# fails: adds wrong
add a=2 b=2
add a=1 b=1
----
> add a=2 b=2
5
> add a=1 b=1
2
`;

const add = (c: { num(k: string): number }): string => String(c.num("a") + c.num("b"));

describe("datadriven runner", () => {
  it("parses cases, comments, known-bug marks and line numbers", () => {
    const cases = parseTestdata("x.txt", SAMPLE);
    expect(cases).toHaveLength(2);
    expect(cases[0]?.line).toBe(2);
    expect(cases[0]?.expected).toBe("3");
    expect(cases[0]?.fails).toBeUndefined();
    expect(cases[1]?.line).toBe(7);
    expect(cases[1]?.fails).toBe("adds wrong");
    expect(cases[1]?.cmds.map((c) => c.text)).toEqual(["add a=2 b=2", "add a=1 b=1"]);
  });
  it("runs a case; a mismatch names file:line, the commands and a diff", () => {
    const [ok, bad] = parseTestdata("x.txt", SAMPLE);
    if (!ok || !bad) throw new Error("two cases expected");
    expect(runCase(ok, add)).toBe(ok.expected);
    const actual = runCase(bad, add);
    expect(actual).not.toBe(bad.expected);
    const msg = mismatch(bad, actual);
    expect(msg).toContain("x.txt:7: output differs");
    expect(msg).toContain("  add a=2 b=2");
    expect(msg).toContain("- 5\n+ 4");
  });
  it("a command that throws prints an error line; a case without ---- is refused", () => {
    const [c] = parseTestdata("y.txt", "add a=1\n----\nerror: add: missing argument b=\n");
    if (!c) throw new Error("one case expected");
    expect(runCase(c, add)).toBe(c.expected);
    expect(() => parseTestdata("z.txt", "add a=1 b=1\n")).toThrow(/z.txt:1: case without/);
  });
  it("diffs line by line", () => {
    expect(lineDiff("a\nb\nc", "a\nc\nd")).toBe("  a\n- b\n  c\n+ d");
    expect(lineDiff("", "x")).toBe("+ x");
  });
});
