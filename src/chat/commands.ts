import { validateFaults } from "../runtime/faults.js";

/** What one line typed in the TUI asks for. A pure parse: nothing is executed here. */
export type Command =
  | { kind: "none" }
  | { kind: "say"; text: string }
  | { kind: "help" }
  | { kind: "peers" }
  | { kind: "stats" }
  | { kind: "held" }
  | { kind: "clear" }
  | { kind: "quit" }
  /** `value` undefined: show the current setting. */
  | { kind: "drop"; value: number | undefined }
  | { kind: "delay"; value: number | undefined }
  /** A one-line hint for the user; nothing else happens. */
  | { kind: "error"; message: string };

export interface CommandHelp {
  name: string;
  args: string;
  text: string;
}

/** Every slash command, in the order /help lists them. */
export const COMMANDS: readonly CommandHelp[] = [
  { name: "help", args: "", text: "list commands and keys" },
  {
    name: "peers",
    args: "",
    text: "each peer: address, up/down, RTT, retransmission timeout, queue",
  },
  { name: "stats", args: "", text: "datagrams, bytes, deliveries, retransmissions, drops" },
  { name: "drop", args: "[P]", text: "drop outgoing datagrams with probability P in [0, 1)" },
  {
    name: "delay",
    args: "[S]",
    text: "delay outgoing datagrams by S seconds on average (or 200ms)",
  },
  { name: "held", args: "", text: "show/hide the hold-back panel (also F2)" },
  { name: "clear", args: "", text: "clear the message pane" },
  { name: "say", args: "TEXT", text: "send TEXT as is, even if it starts with / (or type //TEXT)" },
  { name: "quit", args: "", text: "leave (also Ctrl-C, or Ctrl-D on an empty line)" },
];

const ALIASES: Record<string, string> = { exit: "quit", q: "quit", h: "help", "?": "help" };

const NAMES = COMMANDS.map((c) => c.name);

/** Parse one submitted input line. */
export function parseCommand(line: string): Command {
  if (line.trim() === "") return { kind: "none" };
  if (!line.startsWith("/")) return { kind: "say", text: line };
  if (line.startsWith("//")) return { kind: "say", text: line.slice(1) };
  const m = /^\/(\S*)\s*([\s\S]*)$/.exec(line) as RegExpExecArray;
  const word = (m[1] as string).toLowerCase();
  const arg = (m[2] as string).trim();
  if (word === "") return { kind: "error", message: "a command name must follow / (try /help)" };
  const name = ALIASES[word] ?? word;
  switch (name) {
    case "help":
    case "peers":
    case "stats":
    case "held":
    case "clear":
    case "quit":
      return { kind: name };
    case "say": {
      const text = m[2] as string;
      if (text.trim() === "") return { kind: "error", message: "/say needs some text" };
      return { kind: "say", text };
    }
    case "drop":
      return parseDrop(arg);
    case "delay":
      return parseDelay(arg);
    default:
      return { kind: "error", message: unknownHint(word) };
  }
}

function parseDrop(arg: string): Command {
  if (arg === "") return { kind: "drop", value: undefined };
  const pct = /^(.*)%$/.exec(arg);
  const v = pct ? toNumber(pct[1] as string) / 100 : toNumber(arg);
  if (Number.isNaN(v)) {
    return {
      kind: "error",
      message: `/drop needs a probability in [0, 1), e.g. /drop 0.1 or /drop 10% (got "${arg}")`,
    };
  }
  const err = validateFaults(0, v);
  return err ? { kind: "error", message: err } : { kind: "drop", value: v };
}

function parseDelay(arg: string): Command {
  if (arg === "") return { kind: "delay", value: undefined };
  const m = /^(.*?)\s*(ms|s)?$/i.exec(arg) as RegExpExecArray;
  const n = toNumber(m[1] as string);
  const v = m[2]?.toLowerCase() === "ms" ? n / 1000 : n;
  if (Number.isNaN(v)) {
    return {
      kind: "error",
      message: `/delay needs seconds >= 0, e.g. /delay 0.2 or /delay 200ms (got "${arg}")`,
    };
  }
  const err = validateFaults(v, 0);
  return err ? { kind: "error", message: err } : { kind: "delay", value: v };
}

/** A decimal number, or NaN (Number("") is 0, Number("0x10") is 16: neither is wanted). */
function toNumber(s: string): number {
  const t = s.trim();
  return /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(t) ? Number(t) : Number.NaN;
}

function unknownHint(word: string): string {
  const shown = word.length > 20 ? `${word.slice(0, 20)}…` : word;
  const guess = suggest(word);
  const tail = guess ? `did you mean /${guess}? ` : "";
  return `unknown command /${shown}: ${tail}(/help lists commands; //text sends text starting with /)`;
}

/** The command a mistyped name most likely meant, if any is close enough. */
export function suggest(word: string): string | undefined {
  const prefixed = NAMES.filter((n) => n.startsWith(word));
  if (prefixed.length === 1) return prefixed[0];
  let best: string | undefined;
  let bestD = 3;
  for (const n of NAMES) {
    const d = distance(word, n);
    if (d < bestD) {
      bestD = d;
      best = n;
    }
  }
  return best;
}

/** Damerau-Levenshtein (optimal string alignment) distance: a swap of two letters costs 1. */
export function distance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3) return 99;
  const d: number[][] = [];
  for (let i = 0; i <= a.length; i++) d.push([i]);
  for (let j = 1; j <= b.length; j++) (d[0] as number[])[j] = j;
  for (let i = 1; i <= a.length; i++) {
    const row = d[i] as number[];
    const prev = d[i - 1] as number[];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(
        (prev[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (prev[j - 1] as number) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        v = Math.min(v, ((d[i - 2] as number[])[j - 2] as number) + 1);
      }
      row[j] = v;
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}

/** Tab completion of a command name: the completed line, or undefined when none or ambiguous. */
export function completeCommand(line: string): string | undefined {
  const m = /^\/(\w*)$/.exec(line);
  if (!m) return undefined;
  const hits = NAMES.filter((n) => n.startsWith((m[1] as string).toLowerCase()));
  if (hits.length !== 1) return undefined;
  return `/${hits[0]} `;
}
