import { describe, expect, it } from "vitest";
import { LineEditor } from "../../src/chat/line-editor.js";
import { KEYS, keyAction } from "../../src/chat/tui-keys.js";

describe("keyAction", () => {
  it("inserts typed characters, including multi-byte ones and space", () => {
    expect(keyAction("a", { full: "a" })).toEqual({ kind: "insert", text: "a" });
    expect(keyAction("é", { full: "é" })).toEqual({ kind: "insert", text: "é" });
    expect(keyAction(" ", { full: "space" })).toEqual({ kind: "insert", text: " " });
  });

  it("does not insert control or meta chords it does not know", () => {
    expect(keyAction("\u0007", { full: "C-g", ctrl: true })).toBeUndefined();
    expect(keyAction("x", { full: "M-x", meta: true })).toBeUndefined();
    expect(keyAction(undefined, { full: "f9" })).toBeUndefined();
  });

  it("binds the keys the help lists", () => {
    expect(keyAction(undefined, { full: "C-c", ctrl: true })).toEqual({ kind: "quit" });
    expect(keyAction(undefined, { full: "C-d", ctrl: true })).toEqual({ kind: "eof" });
    expect(keyAction("\r", { full: "return" })).toEqual({ kind: "submit" });
    expect(keyAction(undefined, { full: "f2" })).toEqual({ kind: "panel" });
    expect(keyAction(undefined, { full: "f3" })).toEqual({ kind: "details" });
    expect(keyAction(undefined, { full: "pageup" })).toEqual({ kind: "page", dir: -1 });
    expect(keyAction("\t", { full: "tab" })).toEqual({ kind: "complete" });
    expect(KEYS.map(([k]) => k).join(" ")).toMatch(/F2.*F3.*Ctrl-C/);
  });

  it("maps editing keys onto the line editor", () => {
    const e = new LineEditor();
    e.set("one two");
    const press = (full: string) => {
      const a = keyAction(undefined, { full });
      if (a?.kind !== "edit") throw new Error(`${full} is not an edit key`);
      a.apply(e);
    };
    press("C-left");
    expect(e.cursor).toBe(4);
    press("C-k");
    expect(e.text).toBe("one ");
    press("home");
    press("delete");
    expect(e.text).toBe("ne ");
  });
});
