/**
 * Colours for the TUI as blessed tags, or none at all. Every method takes text that is
 * already inert (see tui-escape.ts) and wraps it in tags; with colour off only bold and
 * inverse remain, so a monochrome terminal or NO_COLOR still tells things apart.
 */

/** https://no-color.org: NO_COLOR present and not empty turns colour off. */
export function colorWanted(env: NodeJS.ProcessEnv, terminalColors: number): boolean {
  const noColor = env.NO_COLOR !== undefined && env.NO_COLOR !== "";
  return !noColor && terminalColors >= 8;
}

/** One colour per node, by id: the same node has the same colour in every window. */
export const NODE_PALETTE = [
  "cyan",
  "green",
  "yellow",
  "magenta",
  "light-blue",
  "light-red",
  "light-cyan",
  "light-green",
  "light-yellow",
  "light-magenta",
] as const;

export function nodeColor(id: number): string {
  return NODE_PALETTE[id % NODE_PALETTE.length] as string;
}

export class Style {
  /**
   * @param color colours at all (false: NO_COLOR or a monochrome terminal)
   * @param palette colours the terminal has: with fewer than 16 there is no grey (it would
   *   become black, invisible on a dark background), so secondary text is left uncoloured
   */
  constructor(
    readonly color: boolean,
    private readonly palette = 256,
  ) {}

  private fg(name: string, text: string): string {
    return this.color ? `{${name}-fg}${text}{/${name}-fg}` : text;
  }

  node(id: number, text: string): string {
    return this.fg(nodeColor(id), text);
  }
  bold(text: string): string {
    return `{bold}${text}{/bold}`;
  }
  /** Secondary information: time stamps, message state, protocol details. */
  dim(text: string): string {
    return this.palette >= 16 ? this.fg("gray", text) : text;
  }
  good(text: string): string {
    return this.fg("green", text);
  }
  warn(text: string): string {
    return this.color ? this.fg("yellow", text) : this.bold(text);
  }
  bad(text: string): string {
    return this.color ? this.fg("red", text) : this.bold(text);
  }
  /** Highlighted item in a bar (a key whose panel is open): works on any bar colour. */
  on(text: string): string {
    return `{bold}{underline}${text}{/underline}{/bold}`;
  }
}
