import type { LineEditor } from "./line-editor.js";

/** What a key does in the chat window. */
export type KeyAction =
  | { kind: "edit"; apply: (e: LineEditor) => void }
  | { kind: "insert"; text: string }
  | { kind: "submit" }
  | { kind: "quit" }
  /** Ctrl-D: quit on an empty line, else delete the character under the cursor. */
  | { kind: "eof" }
  | { kind: "page"; dir: -1 | 1 }
  | { kind: "complete" }
  | { kind: "panel" }
  | { kind: "details" }
  | { kind: "redraw" };

const edit = (apply: (e: LineEditor) => void): KeyAction => ({ kind: "edit", apply });

/** blessed key names (key.full) → action. */
const BINDINGS: Record<string, KeyAction> = {
  "C-c": { kind: "quit" },
  "C-d": { kind: "eof" },
  return: { kind: "submit" },
  enter: { kind: "submit" },
  left: edit((e) => e.left()),
  "C-b": edit((e) => e.left()),
  right: edit((e) => e.right()),
  "C-f": edit((e) => e.right()),
  "C-left": edit((e) => e.wordLeft()),
  "M-b": edit((e) => e.wordLeft()),
  "C-right": edit((e) => e.wordRight()),
  "M-f": edit((e) => e.wordRight()),
  home: edit((e) => e.home()),
  "C-a": edit((e) => e.home()),
  end: edit((e) => e.end()),
  "C-e": edit((e) => e.end()),
  backspace: edit((e) => e.backspace()),
  delete: edit((e) => e.deleteForward()),
  "C-w": edit((e) => e.deleteWordBack()),
  "C-u": edit((e) => e.deleteToStart()),
  "C-k": edit((e) => e.deleteToEnd()),
  up: edit((e) => e.up()),
  down: edit((e) => e.down()),
  pageup: { kind: "page", dir: -1 },
  pagedown: { kind: "page", dir: 1 },
  tab: { kind: "complete" },
  f2: { kind: "panel" },
  f3: { kind: "details" },
  "C-l": { kind: "redraw" },
};

export interface KeyPress {
  full?: string | undefined;
  ctrl?: boolean | undefined;
  meta?: boolean | undefined;
}

/** The action for one blessed keypress (`ch` is the character typed, if any). */
export function keyAction(ch: string | undefined, key: KeyPress): KeyAction | undefined {
  const bound = key.full !== undefined ? BINDINGS[key.full] : undefined;
  if (bound) return bound;
  if (ch !== undefined && ch !== "" && !key.ctrl && !key.meta) return { kind: "insert", text: ch };
  return undefined;
}

/** The keys, for /help and the README. */
export const KEYS: ReadonlyArray<[string, string]> = [
  ["Enter", "send the line (or run the /command)"],
  ["Left/Right, Home/End, Ctrl-A/E", "move in the line; Ctrl-Left/Right (Alt-B/F) by word"],
  ["Backspace/Delete, Ctrl-W/U/K", "delete char; word before; to start; to end"],
  ["Up/Down", "input history"],
  ["PgUp/PgDn, mouse wheel", "scroll the messages; back at the bottom it follows again"],
  ["Shift + mouse drag", "select text (the mouse is reported to rmchat for the wheel)"],
  ["Tab", "complete a /command"],
  ["F2", "hold-back panel: what waits and what for; send windows"],
  ["F3", "protocol details: sender#seq, order number, vector clock"],
  ["Ctrl-L", "redraw the screen"],
  ["Ctrl-C, Ctrl-D on an empty line", "quit"],
];
