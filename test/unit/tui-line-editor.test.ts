import { describe, expect, it } from "vitest";
import { LineEditor, viewport } from "../../src/chat/line-editor.js";
import { strWidth } from "../../src/chat/tui-unicode.js";

function typed(s: string): LineEditor {
  const e = new LineEditor();
  // blessed hands over one UTF-16 unit per keypress: astral characters arrive in halves
  for (const unit of s.split("")) e.insert(unit);
  return e;
}

describe("LineEditor", () => {
  it("inserts at the cursor and moves by whole characters", () => {
    const e = typed("helo");
    e.left();
    e.insert("l");
    expect(e.text).toBe("hello");
    e.home();
    e.insert(">");
    e.end();
    e.insert("<");
    expect(e.text).toBe(">hello<");
  });

  it("treats an emoji typed as two surrogate halves, and e + combining accent, as one character", () => {
    const e = typed("a🎉e\u0301b");
    expect(e.text).toBe("a🎉e\u0301b");
    e.left();
    e.left();
    expect(e.cursor).toBe(3); // before e + accent
    e.left();
    expect(e.cursor).toBe(1); // before the emoji
    e.deleteForward();
    expect(e.text).toBe("ae\u0301b");
    e.end();
    e.backspace();
    e.backspace();
    expect(e.text).toBe("a");
  });

  it("drops control characters and bidi overrides from typed or pasted text", () => {
    const e = typed("a\u001b[2Jb\tc\u202ed");
    expect(e.text).toBe("a[2Jbcd");
  });

  it("deletes words and to either end of the line", () => {
    const e = typed("one two  three");
    e.deleteWordBack();
    expect(e.text).toBe("one two  ");
    e.deleteWordBack();
    expect(e.text).toBe("one ");
    e.set("alpha beta gamma");
    e.wordLeft();
    e.wordLeft();
    expect(e.cursor).toBe(6);
    e.deleteToEnd();
    expect(e.text).toBe("alpha ");
    e.wordLeft();
    e.wordRight();
    expect(e.cursor).toBe(5);
    e.deleteToStart();
    expect(e.text).toBe(" ");
    expect(e.cursor).toBe(0);
  });

  it("keeps a history: Up/Down browse it, the draft comes back, repeats and blanks are not kept", () => {
    const e = new LineEditor();
    for (const l of ["first", "second", "second", "   "]) {
      e.set(l);
      expect(e.submit()).toBe(l);
    }
    expect(e.text).toBe("");
    e.insert("draft");
    e.up();
    expect(e.text).toBe("second");
    e.up();
    expect(e.text).toBe("first");
    e.up();
    expect(e.text).toBe("first");
    e.down();
    expect(e.text).toBe("second");
    e.down();
    expect(e.text).toBe("draft");
    e.down();
    expect(e.text).toBe("draft");
  });

  it("bounds the history", () => {
    const e = new LineEditor(3);
    for (const l of ["a", "b", "c", "d"]) {
      e.set(l);
      e.submit();
    }
    e.up();
    e.up();
    e.up();
    e.up();
    expect(e.text).toBe("b");
  });
});

describe("viewport", () => {
  it("shows the whole line when it fits", () => {
    const v = viewport("hello", 5, 20, 0, strWidth);
    expect(v).toEqual({ start: 0, visible: "hello", cursorCol: 5 });
  });

  it("scrolls so the cursor stays visible at the end of a long line", () => {
    const text = "x".repeat(100);
    const v = viewport(text, 100, 20, 0, strWidth);
    expect(v.cursorCol).toBeLessThan(20);
    expect(v.start + v.cursorCol).toBe(100);
    expect(v.visible.length).toBeLessThanOrEqual(20);
  });

  it("does not move the view while the cursor stays inside it", () => {
    const text = "y".repeat(100);
    const a = viewport(text, 100, 20, 0, strWidth);
    const b = viewport(text, 95, 20, a.start, strWidth);
    expect(b.start).toBe(a.start);
    const c = viewport(text, 10, 20, a.start, strWidth);
    expect(c.start).toBe(10);
    expect(c.cursorCol).toBe(0);
  });

  it("counts wide characters as two columns", () => {
    const text = "日本語".repeat(10);
    const v = viewport(text, text.length, 11, 0, strWidth);
    expect(v.cursorCol).toBeLessThanOrEqual(10);
    expect(strWidth(v.visible)).toBeLessThanOrEqual(11);
    expect(strWidth("🎉")).toBe(2);
    expect(strWidth("é")).toBe(1);
    expect(strWidth("e\u0301")).toBe(1);
  });
});
