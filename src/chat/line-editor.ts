import { sanitize } from "./sanitize.js";

let segmenter: Intl.Segmenter | undefined;

/** Start offsets (UTF-16) of the grapheme clusters of `text`, plus text.length at the end. */
export function graphemeBounds(text: string): number[] {
  // Made on first use: loading ICU's segmentation data would slow every start-up.
  segmenter ??= new Intl.Segmenter(undefined, { granularity: "grapheme" });
  const b: number[] = [];
  for (const s of segmenter.segment(text)) b.push(s.index);
  b.push(text.length);
  return b;
}

/**
 * The input line: text, a cursor between grapheme clusters (so an emoji or an accented
 * letter moves and deletes as one), readline-style editing and a bounded history.
 * Pure state; the TUI maps keys onto these methods.
 */
export class LineEditor {
  text = "";
  /** UTF-16 offset, always on a grapheme boundary (or inside a pair still being typed). */
  cursor = 0;
  private readonly history: string[] = [];
  /** Index into history while browsing with Up/Down; history.length = the draft. */
  private browse = 0;
  private draft = "";

  constructor(private readonly maxHistory = 500) {}

  /**
   * Insert typed or pasted text at the cursor. Characters that would not show as
   * themselves (control characters, bidi overrides) are left out.
   */
  insert(s: string): void {
    let clean = "";
    for (const ch of s) if (sanitize(ch) === ch) clean += ch;
    if (clean === "") return;
    this.text = this.text.slice(0, this.cursor) + clean + this.text.slice(this.cursor);
    this.cursor += clean.length;
  }

  private prevBound(): number {
    let p = 0;
    for (const b of graphemeBounds(this.text)) {
      if (b >= this.cursor) break;
      p = b;
    }
    return p;
  }

  private nextBound(): number {
    for (const b of graphemeBounds(this.text)) if (b > this.cursor) return b;
    return this.text.length;
  }

  left(): void {
    this.cursor = this.prevBound();
  }
  right(): void {
    this.cursor = this.nextBound();
  }
  home(): void {
    this.cursor = 0;
  }
  end(): void {
    this.cursor = this.text.length;
  }

  backspace(): void {
    const p = this.prevBound();
    this.text = this.text.slice(0, p) + this.text.slice(this.cursor);
    this.cursor = p;
  }

  deleteForward(): void {
    this.text = this.text.slice(0, this.cursor) + this.text.slice(this.nextBound());
  }

  /** Start of the word before the cursor (words are runs of non-space). */
  private wordStart(): number {
    let i = this.cursor;
    while (i > 0 && /\s/.test(this.text[i - 1] as string)) i--;
    while (i > 0 && !/\s/.test(this.text[i - 1] as string)) i--;
    return i;
  }

  private wordEnd(): number {
    let i = this.cursor;
    const n = this.text.length;
    while (i < n && /\s/.test(this.text[i] as string)) i++;
    while (i < n && !/\s/.test(this.text[i] as string)) i++;
    return i;
  }

  wordLeft(): void {
    this.cursor = this.wordStart();
  }
  wordRight(): void {
    this.cursor = this.wordEnd();
  }

  /** Ctrl-W: delete the word before the cursor. */
  deleteWordBack(): void {
    const s = this.wordStart();
    this.text = this.text.slice(0, s) + this.text.slice(this.cursor);
    this.cursor = s;
  }

  /** Ctrl-U: delete from the start of the line to the cursor. */
  deleteToStart(): void {
    this.text = this.text.slice(this.cursor);
    this.cursor = 0;
  }

  /** Ctrl-K: delete from the cursor to the end of the line. */
  deleteToEnd(): void {
    this.text = this.text.slice(0, this.cursor);
  }

  /** Replace the whole line (tab completion), cursor at the end. */
  set(text: string): void {
    this.text = text;
    this.cursor = text.length;
  }

  /** Enter: take the line, remember it in the history (not blanks, not repeats), clear. */
  submit(): string {
    const line = this.text;
    if (line.trim() !== "" && this.history[this.history.length - 1] !== line) {
      this.history.push(line);
      if (this.history.length > this.maxHistory) this.history.shift();
    }
    this.browse = this.history.length;
    this.draft = "";
    this.set("");
    return line;
  }

  /** Up: the previous history entry; the line being typed is kept as a draft. */
  up(): void {
    if (this.browse === 0) return;
    if (this.browse === this.history.length) this.draft = this.text;
    this.browse--;
    this.set(this.history[this.browse] as string);
  }

  /** Down: the next history entry, and past the newest one the draft again. */
  down(): void {
    if (this.browse >= this.history.length) return;
    this.browse++;
    this.set(
      this.browse === this.history.length ? this.draft : (this.history[this.browse] as string),
    );
  }
}

export interface Viewport {
  /** Index (UTF-16) of the first visible character. */
  start: number;
  /** The visible part of the text. */
  visible: string;
  /** Screen column of the cursor, relative to the start of the visible part. */
  cursorCol: number;
}

/**
 * Which part of a line longer than the field to show: the cursor stays visible, and the
 * view moves only when the cursor leaves it (start is the previous viewport's start).
 * `width` gives the terminal columns of a string (2 for wide CJK and emoji, 0 for combining).
 */
export function viewport(
  text: string,
  cursor: number,
  cols: number,
  prevStart: number,
  width: (s: string) => number,
): Viewport {
  const avail = Math.max(1, cols - 1); // keep a cell for the cursor at the end
  const bounds = graphemeBounds(text);
  let first = bounds.findIndex((b) => b >= Math.min(prevStart, cursor));
  const cur = bounds.findIndex((b) => b >= cursor);
  const w = (i: number): number => width(text.slice(bounds[i], bounds[i + 1]));
  const span = (a: number, b: number): number => {
    let s = 0;
    for (let i = a; i < b; i++) s += w(i);
    return s;
  };
  if (first > cur) first = cur;
  while (first < cur && span(first, cur) > avail) first++;
  let end = first;
  let used = 0;
  while (end < bounds.length - 1 && used + w(end) <= cols) {
    used += w(end);
    end++;
  }
  const start = bounds[first] as number;
  return {
    start,
    visible: text.slice(start, bounds[end]),
    cursorCol: span(first, cur),
  };
}
