import { PassThrough, Writable } from "node:stream";
import blessed from "blessed";
import { afterAll, describe, expect, it } from "vitest";
import { sanitize } from "../../src/chat/sanitize.js";
import { escapeTags, inert } from "../../src/chat/tui-escape.js";

const HOSTILE = [
  "\u001b[2J\u001b[H",
  "{red-bg}",
  "{/}",
  "{bold}x{/bold}",
  "{escape}{/escape}",
  "{|}",
  "a{|}b",
  "{center}",
  "{right}x",
  "x{/center}",
  "x{/right}",
  "\u001b]0;pwned\u0007",
  "\u001b[31mred\u001b[0m",
  "\u009b31m",
  "\r\n\t\b",
  "\u202eevil",
  "{open}{close}",
];

/** A blessed screen drawing into memory: what a peer's text does to the cells. */
function memoryScreen() {
  const output = Object.assign(
    new Writable({
      write(_c, _e, cb) {
        cb();
      },
    }),
    { isTTY: true, columns: 120, rows: 4 },
  );
  const input = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => input });
  const screen = blessed.screen({
    // @types/blessed has input and output the wrong way round
    input: input as never,
    output: output as never,
    terminal: "xterm-256color",
    fullUnicode: true,
    forceUnicode: true,
    warnings: false,
  });
  const box = blessed.box({
    parent: screen,
    top: 0,
    left: 0,
    width: "100%",
    height: 2,
    tags: true,
  });
  const lines = (screen as unknown as { lines: Array<Array<[number, string]>> }).lines;
  const show = (content: string) => {
    box.setContent(content);
    screen.render();
    const row = lines[0] as Array<[number, string]>;
    return {
      text: row
        .map((c) => c[1])
        .join("")
        .trimEnd(),
      attrs: new Set(row.map((c) => c[0])),
    };
  };
  return { screen, show };
}

const mem = memoryScreen();
afterAll(() => mem.screen.destroy());

describe("escapeTags and inert", () => {
  it("turns every brace into {open}/{close}", () => {
    expect(escapeTags("{red-bg}x{/}").replaceAll("\u001b[10m", "")).toBe(
      "{open}red-bg{close}x{open}/{close}",
    );
    expect(escapeTags("no braces")).toBe("no braces");
  });

  it("leaves no control character, escape or bidi override of the peer's", () => {
    for (const h of HOSTILE) {
      const out = inert(h).replaceAll("\u001b[10m", "");
      // biome-ignore lint/suspicious/noControlCharactersInRegex: the point of the test
      expect(out).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
    }
  });

  it("renders hostile text literally: same characters, one plain style", () => {
    const plain = mem.show("plain").attrs;
    for (const h of HOSTILE) {
      const r = mem.show(inert(h));
      expect(r.text).toBe(sanitize(h).trimEnd());
      expect([...r.attrs]).toEqual([...plain]);
    }
  });

  it("would not without escaping (the check above can fail)", () => {
    const plain = mem.show("plain").attrs;
    const tagged = mem.show(sanitize("{red-bg}x{/}"));
    expect(tagged.text).toBe("x");
    expect([...tagged.attrs]).not.toEqual([...plain]);
    // blessed.escape is not enough: alignment tags are looked for after tag parsing
    expect(mem.show(blessed.escape("a{|}b")).text).not.toBe("a{|}b");
    expect(mem.show(blessed.escape("{center}x")).text).not.toBe("{center}x");
  });

  it("keeps multi-byte text intact", () => {
    // a wide character's second cell holds a placeholder
    const text = mem.show(inert("héllo 日本")).text;
    expect(text.replaceAll("\u0003", "").replaceAll("\u0000", "")).toBe("héllo 日本");
  });
});
