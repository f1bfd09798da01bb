import type { Widgets } from "blessed";
import type { NodeEvent } from "../core/node.js";
import { completeCommand, parseCommand } from "./commands.js";
import type { ChatContext } from "./context.js";
import { LineEditor } from "./line-editor.js";
import { visibleText } from "./tui-escape.js";
import {
  fitSegments,
  formatEntry,
  heldPanel,
  helpReport,
  type LeaderInfo,
  logLine,
  num,
  peersReport,
  statsReport,
  statusSegments,
  titleBar,
} from "./tui-format.js";
import { keyAction } from "./tui-keys.js";
import { applyEvent, ChatLog, type Entry, Scrollback, type SysLevel } from "./tui-model.js";

/** Redraw at most this often (ms): typing and bursts of deliveries are coalesced. */
const FRAME_MS = 25;
/** Messages one notch of the mouse wheel scrolls. */
const WHEEL_STEP = 3;
/** Counters (retransmissions, unacked…) change without events: refresh this often (ms). */
const REFRESH_MS = 500;

/**
 * The full-screen chat window (blessed). Wires the node's events, the keys and the slash
 * commands to the model and the view; logs go into the pane instead of stderr; the terminal
 * is given back on every way out (quit keys and command, SIGTERM/SIGINT, uncaught errors).
 */
export async function runTui(ctx: ChatContext): Promise<void> {
  const { rt, config, id, logger } = ctx;
  const peers = config.hosts.length - 1;
  const log = new ChatLog(id, peers);
  // Subscribe before anything is awaited: what the node emits meanwhile must not be lost.
  let redraw = (): void => {};
  rt.onEvent((ev: NodeEvent) => {
    applyEvent(log, ev, Date.now());
    redraw();
  });
  const stderrSink = logger.sink;
  logger.sink = (line) => {
    const l = logLine(line);
    log.system(l.level, l.text, Date.now());
    redraw();
  };
  // blessed is loaded only here: line mode (pipes, scripts, tests) starts without it.
  let ui: typeof import("./tui-view.js");
  try {
    ui = await import("./tui-view.js");
  } catch (e) {
    logger.sink = stderrSink;
    throw e;
  }
  const { TuiView, strWidth } = ui;
  const view = new TuiView();
  const editor = new LineEditor();
  const s = view.style;
  const address = `${rt.address.address}:${rt.address.port}`;
  const scroll = new Scrollback();
  let panel = false;
  let details = false;

  let refresh: NodeJS.Timeout | undefined;
  const restore = (): void => {
    if (refresh) clearInterval(refresh);
    view.destroy();
    logger.sink = stderrSink;
  };
  // Before the CLI's handler prints the error and exits: the message must land on the
  // normal screen, in cooked mode.
  process.prependListener("uncaughtException", restore);
  process.prependListener("unhandledRejection", restore);
  process.on("exit", restore);

  const say = (level: SysLevel, text: string): void => {
    log.system(level, text, Date.now());
    schedule();
  };
  const output = (lines: string[]): void => {
    for (const l of lines) log.system("output", l, Date.now());
    schedule();
  };

  let pending: NodeJS.Timeout | undefined;
  let lastDraw = 0;
  function schedule(): void {
    if (pending) return;
    pending = setTimeout(draw, Math.max(0, lastDraw + FRAME_MS - Date.now()));
  }

  /** The elected leader: it authors views and, in total order, numbers every message. */
  function leader(): LeaderInfo {
    const st = rt.node.status();
    return { kind: "leader", id: st.leader, term: st.term, self: st.leader === id };
  }

  function draw(): void {
    pending = undefined;
    lastDraw = Date.now();
    const st = rt.stats();
    const prompt = `[node ${id}] `;
    view.draw({
      title: titleBar(
        {
          id,
          address,
          ordering: config.ordering,
          hosts: config.hosts.length,
          leader: leader(),
          sealed: rt.trust.sealed,
        },
        s,
      ),
      messages: (rows, cols) => {
        const lines = new Map<Entry, string>();
        const height = (e: Entry): number => {
          const l = line(e);
          lines.set(e, l);
          return Math.max(1, Math.ceil(strWidth(visibleText(l)) / Math.max(1, cols)));
        };
        return scroll.window(log, rows, height).map((e) => lines.get(e) ?? line(e));
      },
      status: (cols) =>
        fitSegments(
          statusSegments(
            {
              delay: rt.faults.settings.delay,
              drop: rt.faults.settings.drop,
              lost: rt.faults.dropped,
              up: st.peers.filter((p) => p.up).map((p) => p.id),
              down: st.peers.filter((p) => !p.up).map((p) => p.id),
              unacked: st.unacked,
              held: st.heldBack,
              retransmissions: st.retransmissions,
              panel,
              details,
              below: scroll.below(log),
            },
            s,
          ),
          cols,
        ),
      panel: panel ? heldPanel(config.ordering, rt.heldBack(), st, s) : undefined,
      prompt: s.node(id, prompt),
      promptCols: prompt.length,
      input: editor.text,
      cursor: editor.cursor,
    });
  }

  const line = (e: Entry): string => formatEntry(e, s, { peers, details });

  let quitting = false;
  const quit = (): void => {
    if (quitting) return;
    quitting = true;
    restore();
    void ctx.shutdown(0);
  };

  function run(line: string): void {
    const c = parseCommand(line);
    switch (c.kind) {
      case "none":
        return;
      case "say": {
        const r = rt.send(c.text);
        if (r.ok) log.sent(r.seq, c.text, Date.now());
        else log.system("error", r.error, Date.now());
        scroll.follow();
        break;
      }
      case "help":
        output(helpReport());
        break;
      case "peers":
        output(
          peersReport(id, config.hosts, rt.stats(), {
            sealed: rt.trust.sealed,
            cluster: rt.trust.cluster,
            keys: rt.trust.keyIds().length,
          }),
        );
        break;
      case "stats":
        output(statsReport(rt.stats(), rt.faults.dropped, rt.sendErrors));
        break;
      case "drop":
      case "delay": {
        const what = c.kind === "drop" ? "drop probability" : "mean delay (s)";
        if (c.value === undefined) {
          say("info", `${what} is ${num(rt.faults.settings[c.kind])}`);
        } else {
          rt.setFaults({ [c.kind]: c.value });
          say("info", `${what} set to ${num(c.value)} for every outgoing datagram`);
        }
        break;
      }
      case "held":
        panel = !panel;
        break;
      case "clear":
        log.clear();
        scroll.follow();
        break;
      case "quit":
        quit();
        return;
      case "error":
        say("warn", c.message);
        break;
    }
    schedule();
  }

  view.screen.on("keypress", (ch: string | undefined, key: Widgets.Events.IKeyEventArg) => {
    if (quitting) return;
    const a = keyAction(ch, key);
    if (!a) return;
    switch (a.kind) {
      case "quit":
        return quit();
      case "eof":
        if (editor.text === "") return quit();
        editor.deleteForward();
        break;
      case "submit":
        run(editor.submit());
        break;
      case "edit":
        a.apply(editor);
        break;
      case "insert":
        editor.insert(a.text);
        break;
      case "page":
        scroll.page(log, a.dir);
        break;
      case "complete": {
        const done = completeCommand(editor.text);
        if (done !== undefined) editor.set(done);
        break;
      }
      case "panel":
        panel = !panel;
        break;
      case "details":
        details = !details;
        break;
      case "redraw":
        view.screen.realloc();
        break;
    }
    schedule();
  });
  view.onWheel = (dir) => {
    scroll.scroll(log, dir * WHEEL_STEP);
    schedule();
  };
  view.screen.on("resize", schedule);

  redraw = schedule;
  refresh = setInterval(schedule, REFRESH_MS);
  say(
    "info",
    `node ${id} at ${address}, ${config.ordering} order, ${config.hosts.length} nodes (${config.path}); /help lists commands and keys`,
  );
  if (config.ordering === "total") {
    say(
      "info",
      "total order: the elected leader numbers every message; while there is no leader, messages wait in the hold-back queue (F2)",
    );
  }
  draw();
}
