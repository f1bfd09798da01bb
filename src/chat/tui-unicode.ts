import blessed from "blessed";

interface BlessedUnicode {
  charWidth(str: string | number, i?: number): number;
  strWidth(str: string): number;
  codePointAt(str: string, i: number): number;
  chars: { all: RegExp; wide: RegExp; swide: RegExp };
}

const unicode = (blessed as unknown as { unicode: BlessedUnicode }).unicode;
const EMOJI = /\p{Emoji_Presentation}/u;
let patched = false;

/**
 * blessed 0.1.81's width tables predate emoji: it draws 🎉 as one cell while every current
 * terminal draws two, so the rest of the line shifts and stale characters stay on screen.
 * Teach it that emoji with emoji presentation are wide (the placeholder regex that reserves
 * the second cell, and charWidth that skips it when drawing). Idempotent.
 */
export function patchBlessedWidths(): void {
  if (patched) return;
  patched = true;
  const base = unicode.charWidth;
  unicode.charWidth = function (str, i) {
    const p = typeof str === "number" ? str : unicode.codePointAt(str, i ?? 0);
    if (p > 0xff && EMOJI.test(String.fromCodePoint(p))) return 2;
    return base.call(this, str, i);
  };
  unicode.chars.all = new RegExp(
    `(${unicode.chars.swide.source.slice(1, -1)}|${unicode.chars.wide.source.slice(1, -1)}|\\p{Emoji_Presentation})`,
    "gu",
  );
}

/** Terminal columns a string takes (2 for wide CJK and emoji, 0 for combining marks). */
export function strWidth(s: string): number {
  patchBlessedWidths();
  return unicode.strWidth(s);
}
