import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { CLI, freeUdpPorts, type NodeWindow, Tmux, tempDir, writeConfig } from "../helpers/tmux.js";

/**
 * The TUI driven as a person would: rmchat runs in tmux windows (real pseudo-terminals),
 * keys go in with send-keys, and what the screen shows comes back with capture-pane.
 */

let haveTmux = true;
try {
  execFileSync("tmux", ["-V"], { stdio: "ignore" });
} catch {
  haveTmux = false;
}
if (!haveTmux && process.env.CI)
  throw new Error("tmux is required for the TUI tests (apt-get install tmux)");

const servers: Tmux[] = [];
const dirs: string[] = [];
const plains: ChildProcessWithoutNullStreams[] = [];

function tmux(): Tmux {
  const t = new Tmux();
  servers.push(t);
  return t;
}

afterEach(() => {
  for (const p of plains.splice(0)) if (p.exitCode === null) p.kill("SIGTERM");
  for (const t of servers.splice(0)) t.kill();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
afterAll(() => {
  for (const t of servers) t.kill();
});

async function cluster(ordering: string, n: number) {
  const ports = await freeUdpPorts(n);
  const dir = tempDir();
  dirs.push(dir);
  return { dir, config: writeConfig(dir, ports, ordering) };
}

/** A line-mode node (stdin a pipe, so no TUI): its stdout lines come back in `lines`. */
function plainNode(config: string, id: number) {
  const child = spawn(process.execPath, [CLI, String(id), "--config", config], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  plains.push(child);
  const lines: string[] = [];
  let buf = "";
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (d: string) => {
    buf += d;
    const parts = buf.split("\n");
    buf = parts.pop() ?? "";
    lines.push(...parts);
  });
  child.stderr.resume();
  const waitLine = async (pred: (l: string) => boolean, what: string, ms = 20_000) => {
    const until = Date.now() + ms;
    while (!lines.some(pred)) {
      if (Date.now() > until)
        throw new Error(`plain node: timed out waiting for ${what}; got ${JSON.stringify(lines)}`);
      await new Promise((ok) => setTimeout(ok, 50));
    }
  };
  return { child, lines, waitLine, send: (text: string) => child.stdin.write(`${text}\n`) };
}

const statusBar = (lines: string[]) => lines[lines.length - 2] ?? "";
const titleBar = (lines: string[]) => lines[0] ?? "";

/** The terminal after rmchat exited: normal screen, cursor shown, no mouse reporting, same modes. */
async function expectRestored(t: Tmux, w: NodeWindow, code: number): Promise<string> {
  const screen = await t.waitFor(w, "the exit line", (s) => /EXIT=\d+ STTY=\w+/.test(s));
  expect(screen).toContain(`EXIT=${code} STTY=same`);
  expect(
    t.display(
      w,
      "#{alternate_on} #{cursor_flag} #{mouse_any_flag}#{mouse_button_flag}#{mouse_standard_flag}",
    ),
  ).toBe("0 1 000");
  return screen;
}

/** SGR colour parameters (30-38, 40-48, 90-97, 100-107) anywhere in a capture with escapes. */
function colourCodes(captured: string): string[] {
  const found: string[] = [];
  // biome-ignore lint/suspicious/noControlCharactersInRegex: SGR sequences start with ESC
  for (const m of captured.matchAll(/\u001b\[([\d;:]*)m/g)) {
    for (const p of (m[1] as string).split(/[;:]/)) {
      const n = Number(p);
      if (
        (n >= 30 && n <= 38) ||
        (n >= 40 && n <= 48) ||
        (n >= 90 && n <= 97) ||
        (n >= 100 && n <= 107)
      ) {
        found.push(p);
      }
    }
  }
  return found;
}

describe.skipIf(!haveTmux)("TUI in a terminal", () => {
  it("three nodes chat; /drop shows in the status bar; quit by /quit, Ctrl-C and Ctrl-D restores the terminal", async () => {
    const t = tmux();
    const { config } = await cluster("causal", 3);
    // 120 columns: the title holds the leader and the sealing state in full.
    const w = [0, 1, 2].map((i) =>
      t.startNode(`n${i}`, [String(i), "--config", config], { cols: 120 }),
    );
    await t.waitFor(w[0] as NodeWindow, "peers 1 and 2 up", (_s, l) =>
      statusBar(l).includes("peers up 1-2"),
    );
    await t.waitFor(w[1] as NodeWindow, "peers 0 and 2 up", (_s, l) =>
      statusBar(l).includes("peers up 0,2"),
    );
    await t.waitFor(w[2] as NodeWindow, "peers 0 and 1 up", (_s, l) =>
      statusBar(l).includes("peers up 0-1"),
    );
    const [a, b, c] = w as [NodeWindow, NodeWindow, NodeWindow];

    expect(titleBar(t.lines(a))).toContain("rmchat node 0 @ 127.0.0.1:");
    expect(titleBar(t.lines(a))).toContain("causal order");
    expect(titleBar(t.lines(a))).toContain("│ not sealed");

    t.line(a, "hello from node zero");
    await t.waitText(b, "<node 0> hello from node zero");
    await t.waitText(c, "<node 0> hello from node zero");
    // own message: marked, delivered by self and acknowledged by both peers
    await t.waitText(a, "»<node 0> hello from node zero · delivered, acked 2/2");

    t.line(c, "héllo wörld 日本語 🎉");
    await t.waitText(a, "<node 2> héllo wörld 日本語 🎉");
    await t.waitText(b, "<node 2> héllo wörld 日本語 🎉");

    t.line(b, "/drop 0.5");
    await t.waitFor(b, "drop 0.5 in the status bar", (_s, l) => statusBar(l).includes("drop 0.5"));
    expect(statusBar(t.lines(a))).toContain("drop 0 ");
    t.line(b, "/drop 0");
    await t.waitFor(b, "drop back to 0", (_s, l) => statusBar(l).includes("delay 0s drop 0 "));

    t.line(a, "/quit");
    await expectRestored(t, a, 0);
    t.keys(b, "C-c");
    await expectRestored(t, b, 0);
    t.keys(c, "C-d");
    await expectRestored(t, c, 0);
  });

  it("total order: the hold-back panel shows a message waiting for a leader until a quorum is up", async () => {
    const t = tmux();
    const { config } = await cluster("total", 3);
    const n1 = t.startNode("n1", ["1", "--config", config]);
    await t.waitFor(n1, "no leader in the title", (_s, l) => titleBar(l).includes("no leader"));

    t.line(n1, "queued until there is a leader");
    await t.waitText(n1, "»<node 1> queued until there is a leader · sent");
    await t.waitFor(n1, "held 1", (_s, l) => statusBar(l).includes("held 1"));
    t.keys(n1, "F2");
    await t.waitText(n1, "hold-back queue (1)");
    const screen = t.capture(n1);
    expect(screen).toContain("node 1 #1 queued until there is a leader");
    expect(screen).toMatch(/needs a leader to order it/);
    expect(statusBar(t.lines(n1))).toContain("F2 hold-back ●");

    // A second node makes a quorum (2 of 3): a leader is elected and orders the message.
    const n2 = t.startNode("n2", ["2", "--config", config]);
    await t.waitFor(n1, "a leader in the title", (_s, l) =>
      /leader: (this node|node) \d \(term \d+\)/.test(titleBar(l)),
    );
    await t.waitText(n1, "hold-back queue (0)");
    await t.waitText(n2, "<node 1> queued until there is a leader");
    t.keys(n1, "F2");
    await t.waitFor(n1, "panel closed", (sc) => !/hold-back queue \(\d+\)/.test(sc));
    await t.waitText(n1, "»<node 1> queued until there is a leader · delivered");
  });

  it("shows a peer's escape sequences and blessed tags as inert text", async () => {
    const t = tmux();
    const { config } = await cluster("causal", 2);
    const w = t.startNode("tui", ["0", "--config", config], { cols: 120 });
    const plain = plainNode(config, 1);
    await t.waitFor(w, "node 1 up", (_s, l) => statusBar(l).includes("peers up 1"));
    t.line(w, "canary line before the attack");
    await plain.waitLine((l) => l === "0 says: canary line before the attack", "the canary");
    const titleBefore = t.display(w, "#{pane_title}");

    const hostile =
      "X\u001b[2J\u001b[H{red-bg}R{/}\u001b]0;pwned\u0007\u001b[31mr{bold}b{|}{center}Y";
    plain.send(hostile);
    const shown = "X\\x1b[2J\\x1b[H{red-bg}R{/}\\x1b]0;pwned\\x07\\x1b[31mr{bold}b{|}{center}Y";
    const screen = await t.waitText(w, `<node 1> ${shown}`);
    // nothing was cleared, the title is unchanged
    expect(screen).toContain("»<node 0> canary line before the attack");
    expect(t.display(w, "#{pane_title}")).toBe(titleBefore);
    // and the peer's text carries no style of its own: after the sender's name, no escape
    const line = t
      .capture(w, true)
      .split("\n")
      .find((l) => l.includes("pwned")) as string;
    const body = line.slice(line.indexOf("<node 1>"));
    expect(body.slice(body.indexOf("X\\x1b"))).not.toContain("\u001b");
  });

  it("honours NO_COLOR and monochrome terminals (and uses colour otherwise)", async () => {
    const t = tmux();
    const { config } = await cluster("causal", 3);
    const colour = t.startNode("colour", ["0", "--config", config]);
    const noColor = t.startNode("nocolor", ["1", "--config", config], { env: { NO_COLOR: "1" } });
    const mono = t.startNode("mono", ["2", "--config", config], { env: { TERM: "xterm-mono" } });
    for (const w of [colour, noColor, mono]) {
      await t.waitFor(w, "all peers up", (_s, l) => /peers up [\d,-]+ │/.test(statusBar(l)));
    }
    t.line(colour, "colourful");
    t.line(noColor, "plain please");
    for (const w of [colour, noColor, mono]) {
      await t.waitText(w, "<node 0> colourful");
      await t.waitText(w, "<node 1> plain please");
    }
    expect(colourCodes(t.capture(colour, true)).length).toBeGreaterThan(0);
    expect(colourCodes(t.capture(noColor, true))).toEqual([]);
    expect(colourCodes(t.capture(mono, true))).toEqual([]);
    // own messages and bars still stand out without colour
    expect(t.capture(noColor)).toContain("»<node 1> plain please");
    expect(t.capture(noColor, true)).toContain("\u001b[7m");
  });

  it("edits, recalls history, ignores empty lines, pastes long lines, hints at typos, scrolls and resizes", async () => {
    const t = tmux();
    const { config } = await cluster("fifo", 2);
    const w = t.startNode("tui", ["0", "--config", config], { cols: 80, rows: 20 });
    const plain = plainNode(config, 1);
    await t.waitFor(w, "node 1 up", (_s, l) => statusBar(l).includes("peers up 1"));

    // editing: fix a typo in the middle, add at both ends
    t.type(w, "helo wrld");
    t.keys(w, "Left", "Left", "Left");
    t.type(w, "o");
    t.keys(w, "C-a");
    t.type(w, "> ");
    t.keys(w, "End");
    t.type(w, "!");
    t.keys(w, "C-Left", "C-Left", "Right", "Right");
    t.type(w, "l");
    t.keys(w, "Enter");
    await plain.waitLine((l) => l === "0 says: > hello world!", "the edited line");

    // empty and blank lines are not sent
    t.keys(w, "Enter");
    t.type(w, "   ");
    t.keys(w, "Enter");
    // history: Up brings the line back, Ctrl-U / Ctrl-W edit it
    t.keys(w, "Up");
    await t.waitFor(w, "history recall", (_s, l) =>
      (l[l.length - 1] ?? "").includes("> hello world!"),
    );
    t.keys(w, "C-w");
    t.type(w, "again");
    t.keys(w, "Enter");
    await plain.waitLine((l) => l === "0 says: > hello again", "the recalled line");
    expect(plain.lines.filter((l) => l.startsWith("0 says:"))).toEqual([
      "0 says: > hello world!",
      "0 says: > hello again",
    ]);

    // a pasted line far longer than the input field arrives whole
    const long = `${"long paste ".repeat(200)}日本🎉 end`;
    t.type(w, long);
    t.keys(w, "Enter");
    await plain.waitLine((l) => l === `0 says: ${long}`, "the long line");

    // a mistyped command gets a one-line hint, and the node keeps running
    t.line(w, "/dorp 0.1");
    await t.waitText(w, "did you mean /drop?");
    t.line(w, "/delay 5ms");
    await t.waitFor(w, "delay 0.005s", (_s, l) => statusBar(l).includes("delay 0.005s"));

    // scrollback: fill the pane, PgUp shows older lines and says how many are below
    for (let i = 1; i <= 30; i++) plain.send(`filler ${i}`);
    await t.waitText(w, "<node 1> filler 30");
    t.keys(w, "PPage");
    await t.waitFor(w, "scrolled back", (_s, l) => /▼ \d+ more/.test(statusBar(l)));
    expect(t.capture(w)).not.toContain("filler 30");
    t.keys(w, "NPage", "NPage", "NPage", "NPage");
    await t.waitFor(
      w,
      "back at the bottom",
      (s, l) => s.includes("filler 30") && !statusBar(l).includes("more"),
    );
    // mouse wheel (X10 encoding, as tmux forwards it): up 2 notches, then down
    t.type(w, "\u001b[M`((\u001b[M`((");
    await t.waitFor(w, "wheel scrolled back", (_s, l) => /▼ \d+ more/.test(statusBar(l)));
    t.type(w, "\u001b[Ma((\u001b[Ma((\u001b[Ma((\u001b[Ma((");
    await t.waitFor(w, "wheel back at the bottom", (_s, l) => !statusBar(l).includes("more"));

    // resize: bars and the input line follow the new size
    t.type(w, "draft survives resize");
    t.tmux("resize-window", "-t", w.name, "-x", "50", "-y", "12");
    await t.waitFor(
      w,
      "small layout",
      (_s, l) =>
        l.length === 12 &&
        statusBar(l).includes("drop 0") &&
        (l[11] ?? "").startsWith("[node 0] draft survives"),
    );
    t.tmux("resize-window", "-t", w.name, "-x", "120", "-y", "30");
    await t.waitFor(
      w,
      "large layout",
      (_s, l) =>
        l.length === 30 &&
        statusBar(l).includes("F2 hold-back") &&
        (l[29] ?? "").startsWith("[node 0] draft survives"),
    );

    // SIGTERM: a clean exit, terminal restored
    process.kill(t.pid(w), "SIGTERM");
    await expectRestored(t, w, 0);
  });

  it("gives the terminal back when rmchat crashes", async () => {
    const t = tmux();
    const { dir, config } = await cluster("causal", 2);
    const preload = join(dir, "crash.mjs");
    writeFileSync(
      preload,
      'process.on("SIGUSR2", () => { throw new Error("injected crash"); });\n',
    );
    const w = t.startNode("tui", ["0", "--config", config], { nodeArgs: ["--import", preload] });
    await t.waitText(w, "rmchat node 0 @");
    expect(t.display(w, "#{alternate_on}")).toBe("1");
    process.kill(t.pid(w), "SIGUSR2");
    const screen = await expectRestored(t, w, 1);
    expect(screen).toContain("internal error: injected crash");
  });
});
