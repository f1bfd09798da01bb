import { sanitize } from "./sanitize.js";

/**
 * A separator blessed ignores: SGR 10 ("primary font") changes no attribute in blessed's
 * renderer, never reaches the terminal as such (blessed redraws from cell attributes), and
 * takes no column. It keeps an escaped brace from forming the tags blessed looks for *after*
 * tag parsing: `{|}` (right-align the rest), and `{left}`/`{center}`/`{right}` at the start or
 * `{/center}`… at the end of a line. blessed.escape alone lets those through.
 */
const INERT_GAP = "\u001b[10m";

/**
 * Blessed tag syntax (`{red-bg}`, `{/}`, `{escape}`, `{|}`, `{center}`…) made literal: every
 * brace shows as itself and styles, aligns or hides nothing.
 */
export function escapeTags(text: string): string {
  return text.replace(/[{}]/g, (c) => (c === "{" ? `{open}${INERT_GAP}` : "{close}"));
}

/**
 * Text from outside the program (peers, the config, logs, what the user typed) made inert
 * for a tag-enabled blessed widget: control characters and escape sequences become visible
 * escapes (sanitize), then tag syntax becomes literal. One line, no styling, no cursor moves.
 */
export function inert(text: string): string {
  return escapeTags(sanitize(text));
}

/** What markup shows on screen: tags gone, {open}/{close} as braces, inert gaps gone. */
export function visibleText(markup: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the gap starts with ESC
  return markup.replace(/\{\/?[\w\-,;!#]*\}|\u001b\[10m/g, (t) =>
    t === "{open}" ? "{" : t === "{close}" ? "}" : "",
  );
}
