import blessed from "blessed";
import { colorWanted, Style } from "./colors.js";
import { viewport } from "./line-editor.js";
import { inert } from "./tui-escape.js";
import { patchBlessedWidths, strWidth } from "./tui-unicode.js";

export { strWidth };

interface Tput {
  colors: number;
  unicode: boolean;
  brokenACS: boolean;
}

/** What the wiring hands the view at each redraw. Strings are blessed markup (inert text). */
export interface Frame {
  title: string;
  /** The message lines to show, given the pane's size; the last one ends at the bottom. */
  messages: (rows: number, cols: number) => string[];
  /** Called with the width available to the status bar. */
  status: (cols: number) => string;
  panel: string[] | undefined;
  prompt: string;
  /** Columns the prompt takes. */
  promptCols: number;
  input: string;
  cursor: number;
}

/**
 * The widgets: a title bar, the message pane, a side panel (toggled), a status bar and the
 * input line. The view knows nothing about the protocol; it draws frames, scrolls, and
 * gives the terminal back on destroy().
 */
export class TuiView {
  readonly screen: blessed.Widgets.Screen;
  readonly style: Style;
  private readonly title: blessed.Widgets.BoxElement;
  private readonly pane: blessed.Widgets.BoxElement;
  private readonly panel: blessed.Widgets.BoxElement;
  private readonly status: blessed.Widgets.BoxElement;
  private readonly input: blessed.Widgets.BoxElement;
  /** Mouse wheel over the message pane: -1 back, +1 forward. */
  onWheel: (dir: -1 | 1) => void = () => {};
  private inputStart = 0;
  private cursorAt: [number, number] = [0, 0];
  private destroyed = false;

  constructor(env: NodeJS.ProcessEnv = process.env) {
    patchBlessedWidths();
    this.screen = blessed.screen({
      smartCSR: true,
      fullUnicode: true,
      autoPadding: false,
      warnings: false,
      sendFocus: false,
      dockBorders: false,
    });
    const tput = (this.screen as unknown as { tput: Tput }).tput;
    // On a UTF-8 terminal draw │ and · as themselves, not through the VT100 line-drawing
    // set (which copy-paste and tmux capture-pane turn into letters). NCURSES_NO_UTF8_ACS
    // still decides when set.
    if (tput.unicode && env.NCURSES_NO_UTF8_ACS === undefined) tput.brokenACS = true;
    const colors = tput.colors ?? 8;
    this.style = new Style(colorWanted(env, colors), colors);
    const bar = this.style.color ? { fg: "white", bg: "blue" } : { inverse: true };
    this.title = blessed.box({
      parent: this.screen,
      top: 0,
      left: 0,
      width: "100%",
      height: 1,
      tags: true,
      wrap: false,
      style: bar,
    });
    this.pane = blessed.box({
      parent: this.screen,
      top: 1,
      left: 0,
      width: "100%",
      height: "100%-3",
      tags: true,
      // Only the entries in view are handed over (Scrollback); blessed shows their bottom.
      scrollable: true,
      alwaysScroll: true,
      wrap: true,
    });
    this.panel = blessed.box({
      parent: this.screen,
      top: 1,
      right: 0,
      width: 40,
      height: "100%-3",
      tags: true,
      hidden: true,
      border: { type: "line" },
      label: " F2 hold-back ",
      scrollable: true,
      alwaysScroll: true,
      wrap: true,
    });
    this.status = blessed.box({
      parent: this.screen,
      bottom: 1,
      left: 0,
      width: "100%",
      height: 1,
      tags: true,
      wrap: false,
      style: bar,
    });
    this.input = blessed.box({
      parent: this.screen,
      bottom: 0,
      left: 0,
      width: "100%",
      height: 1,
      tags: true,
      wrap: false,
    });
    this.pane.enableMouse();
    this.pane.on("wheelup", () => this.onWheel(-1));
    this.pane.on("wheeldown", () => this.onWheel(1));
    this.screen.on("render", () => this.placeCursor());
  }

  get cols(): number {
    return this.screen.width as number;
  }
  get rows(): number {
    return this.screen.height as number;
  }

  draw(f: Frame): void {
    if (this.destroyed) return;
    const cols = this.cols;
    const panelOpen = f.panel !== undefined;
    const side = Math.min(50, Math.max(26, Math.floor(cols * 0.42)));
    // Too narrow for both side by side: the panel covers the pane until F2 closes it.
    const overlay = cols - side < 40;
    this.pane.width = panelOpen && !overlay ? cols - side : cols;
    if (panelOpen) {
      this.panel.width = overlay ? cols : side;
      this.panel.setContent((f.panel as string[]).join("\n"));
      this.panel.show();
    } else {
      this.panel.hide();
    }
    const rows = Math.max(1, this.rows - 3);
    this.pane.setContent(f.messages(rows, this.pane.width as number).join("\n"));
    this.pane.setScrollPerc(100);
    this.title.setContent(f.title);
    this.status.setContent(f.status(cols));
    const avail = Math.max(1, cols - f.promptCols);
    const v = viewport(f.input, f.cursor, avail, this.inputStart, strWidth);
    this.inputStart = v.start;
    this.input.setContent(`${f.prompt}${inert(v.visible)}`);
    this.cursorAt = [this.rows - 1, Math.min(cols - 1, f.promptCols + v.cursorCol)];
    this.screen.render();
  }

  private placeCursor(): void {
    if (this.destroyed) return;
    const program = this.screen.program;
    program.cup(this.cursorAt[0], this.cursorAt[1]);
    if ((program as unknown as { cursorHidden: boolean }).cursorHidden) program.showCursor();
  }

  /** Give the terminal back: normal screen, cursor, no mouse reporting, cooked mode. Idempotent. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    try {
      this.screen.destroy();
    } catch {
      // the terminal may be gone already (hang-up); nothing left to restore
    }
  }
}
