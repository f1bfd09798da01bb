import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { ChatMsg } from "../../src/core/app-message.js";
import { FifoOrder } from "../../src/core/order/fifo.js";
import { makeOrderLayer, type OrderFactory } from "../../src/core/order/index.js";
import type { Delivery } from "../../src/core/order/layer.js";
import type { Ordering } from "../../src/core/types.js";
import { diagramOfPlan } from "../../src/fuzz/diagram.js";
import { fuzz } from "../../src/fuzz/property.js";
import { type Browser, haveChromium, openBrowser } from "../helpers/browser.js";
import { CLI, freePorts, type Proc, startProc, stopAll, tempConfig } from "../helpers/procs.js";

/**
 * The diagrams in a real browser (Debian's Chromium, headless): generated from real
 * processes and from a simulated counterexample, loaded from file, checked in the DOM.
 */
if (!haveChromium && process.env.CI)
  throw new Error("chromium is required for the browser tests (apt-get install chromium)");

const dir = mkdtempSync(join(tmpdir(), "rmchat-trace-test-"));
let procs: Proc[] = [];
let browser: Browser | undefined;
afterEach(async () => {
  await stopAll(procs);
  procs = [];
  await browser?.close();
  browser = undefined;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const N = 3;
const PER = 20;

const deliveries = (lines: string[]): number =>
  lines.filter((l) => l.includes('"event":"deliver"')).length;

/** Viewport as tall as the diagram plus room for the details panel below it. */
async function fitScreenshot(page: Browser["page"]): Promise<void> {
  const bottom = await page.locator("#d").evaluate((e) => e.getBoundingClientRect().bottom);
  await page.setViewportSize({ width: 1400, height: Math.ceil(bottom) + 90 });
}

async function load(file: string): Promise<Browser> {
  browser = await openBrowser(dir);
  await browser.page.goto(`file://${file}`, { waitUntil: "load" });
  return browser;
}

/** Screenshots go to the test's temp dir; RMCHAT_SCREENSHOTS=DIR keeps them (the README's picture). */
const shot = (name: string): string => join(process.env.RMCHAT_SCREENSHOTS ?? dir, name);

describe.skipIf(!haveChromium)("space-time diagrams in headless Chromium", () => {
  it("a real run: 2 chat nodes and 1 agent with --trace, the agent killed and restarted, drawn by `rmchat trace`", async () => {
    const config = tempConfig(await freePorts(N), { ordering: "causal" });
    const traces = Array.from({ length: N }, (_, i) => join(dir, `node${i}.jsonl`));
    const common = (i: number) => [
      "--config",
      config,
      "--log-level",
      "warn",
      "--json",
      "--trace",
      traces[i] as string,
    ];
    procs = [
      startProc(["0", "0.002", "0.1", ...common(0)]),
      startProc(["1", "0.002", "0.1", ...common(1)]),
      startProc(["agent", "2", "--name", "web", ...common(2)]),
    ];
    for (const [i, p] of procs.entries()) {
      for (let k = 1; k <= PER; k++) p.child.stdin.write(`n${i} line ${k}\n`);
    }
    await Promise.all(
      procs.map((p, i) =>
        p.waitFor((l) => deliveries(l) >= N * PER, 60_000, `node ${i} to deliver ${N * PER}`),
      ),
    );
    // Kill the agent and start it again on the same trace file: a second life of node 2.
    const first = procs[2] as Proc;
    first.child.kill("SIGKILL");
    await first.exit;
    const again = startProc(["agent", "2", "--name", "web", ...common(2)]);
    procs[2] = again;
    const fullTable = (l: string[]) =>
      l.some(
        (x) => x.includes('"event":"table"') && (JSON.parse(x).table as unknown[]).length === N,
      );
    await again.waitFor(fullTable, 60_000, "the restarted agent in a table of all nodes");
    const EXTRA = 5;
    for (let k = 1; k <= EXTRA; k++) procs[0]?.child.stdin.write(`n0 again ${k}\n`);
    const agains = (l: string[]) => l.filter((x) => x.includes("n0 again")).length;
    await Promise.all(
      procs.map((p, i) =>
        p.waitFor((l) => agains(l) >= EXTRA, 60_000, `node ${i} to deliver ${EXTRA} more`),
      ),
    );
    await stopAll(procs);
    // Deliveries the processes printed from another life, all lives together: one arrow each.
    // The new agent life sends nothing: what it delivers from node 2 came from the old life
    // (state transfer of the group's recent past).
    const delivered = (p: Proc) =>
      p.lines
        .filter((l) => l.includes('"event":"deliver"'))
        .map((l) => JSON.parse(l) as { from: number });
    const remote =
      delivered(procs[0] as Proc).filter((d) => d.from !== 0).length +
      delivered(procs[1] as Proc).filter((d) => d.from !== 1).length +
      delivered(first).filter((d) => d.from !== 2).length +
      delivered(again).length;
    expect(remote).toBeGreaterThanOrEqual(N * PER * (N - 1) + EXTRA * (N - 1));
    procs = [];

    const out = join(dir, "run.html");
    const r = spawnSync(process.execPath, [CLI, "trace", "--out", out, ...traces], {
      encoding: "utf8",
    });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`4 lane(s), ${remote} delivery arrow(s)`);

    const b = await load(out);
    const { page } = b;
    expect(await page.locator("line.life").count()).toBe(N + 1);
    expect(await page.locator("line.a").count()).toBe(remote);
    expect(await page.locator("use.send").count()).toBe(N * PER + EXTRA);
    // Node 2's first life ended without a word (SIGKILL), its second is marked as a restart.
    expect(await page.locator("use.killed").count()).toBe(1);
    expect(await page.locator("use.restart").count()).toBe(1);
    expect(await page.locator("use.stop").count()).toBe(N);
    // Drop 0.1 on two of the nodes: some datagrams were dropped and some sent again.
    expect(await page.locator("line.x").count()).toBeGreaterThan(0);
    // A lost datagram that carried messages is repaired by a resend, drawn as a retx mark. (A
    // run whose drops hit only acks and heartbeats needs no resend: drop 0.1 does not say which.)
    if ((await page.locator("line.x:not(.c)").count()) > 0) {
      expect(await page.locator("use.retx").count()).toBeGreaterThan(0);
    }

    // Hover shows the details of a delivery.
    const arrow = page.locator("line.a.s1").first();
    await arrow.dispatchEvent("mouseover");
    const info = await page.locator("#info").textContent();
    expect(info).toMatch(/1#\d+ "n1 line \d+" from node 1/);
    expect(info).toContain("vc [");

    // Zoom moves the arrows; the sender filter hides one sender's arrows only.
    const x1 = await arrow.getAttribute("x1");
    await page.click("#zin");
    await page.evaluate(
      "new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok)))",
    );
    expect(await arrow.getAttribute("x1")).not.toBe(x1);
    await page.uncheck('input[data-sender="1"]');
    const shown = await page.evaluate(
      '[...document.querySelectorAll("line.a")].filter((e) => getComputedStyle(e).display !== "none").length',
    );
    const fromOne = await page.locator("line.a.s1").count();
    expect(fromOne).toBeGreaterThanOrEqual(PER * (N - 1));
    expect(shown).toBe(remote - fromOne);

    const png = shot("real-run.png");
    await page.click("#fit");
    await page.screenshot({ path: png, fullPage: true });
    expect(statSync(png).size).toBeGreaterThan(10_000);
    expect(b.errors).toEqual([]);
    expect(b.fetches).toEqual([]);
  });

  /** Fuzz `mode` over a broken layer (seed 4242), replay the shrunk plan with a recorder, load it. */
  async function counterexample(mode: Ordering, broken: OrderFactory, checker: string) {
    const factory: OrderFactory = (m, self, n) =>
      m === mode ? broken(m, self, n) : makeOrderLayer(m, self, n);
    const f = fuzz({ mode, runs: 300, seed: 4242, orderFactory: factory, checkers: [checker] });
    expect(f.ok).toBe(false);
    const plan = f.plan;
    if (!plan) throw new Error("no plan in a failing outcome");
    const title = `fuzz counterexample: ${mode} mode over a broken order layer (seed 4242, shrunk)`;
    const d = diagramOfPlan(plan, { orderFactory: factory }, title, [checker]);
    expect(d.failures).toEqual(f.failures);
    const file = join(dir, `${mode}-${checker}.html`);
    writeFileSync(file, d.html);
    const b = await load(file);
    const { page } = b;
    const lives = new Set(d.records.map((x) => `${x.node}@${x.inc}`)).size;
    const remote = d.records.filter((x) => x.ev === "deliver" && x.from !== x.node).length;
    expect(await page.locator("line.life").count()).toBe(lives);
    expect(await page.locator("line.a").count()).toBe(remote);
    expect(await page.locator(".viol").first().textContent()).toContain(`${checker}:`);
    // Negative control: the real layer on the same plan passes and highlights nothing.
    const ok = diagramOfPlan(plan, {}, "real layer", [checker]);
    expect(ok.failures).toEqual([]);
    expect(ok.html).not.toContain(" hot");
    return { page, errors: b.errors, png: `${mode}-${checker}.png` };
  }

  it("a failing seed (causal over a FIFO-only layer): the two deliveries that disagree", async () => {
    const { page, errors, png } = await counterexample(
      "causal",
      (_m, _s, n) => new FifoOrder(n),
      "causal",
    );
    // The checker names two messages at one life: both arrows into that life are red.
    const hot = page.locator("line.a.hot");
    expect(await hot.count()).toBe(2);
    const tos = await hot.evaluateAll((els) => els.map((e) => e.getAttribute("y2")));
    expect(new Set(tos).size).toBe(1);
    await hot.first().dispatchEvent("click");
    expect(await page.locator("#info").textContent()).toMatch(/delivered at node \d/);
    await fitScreenshot(page);
    await page.screenshot({ path: shot(png) });
    expect(errors).toEqual([]);
  }, 300_000);

  it("a failing seed (a layer that loses messages): the message that went missing", async () => {
    /** Loses every remote message whose seq is 3 modulo 5. */
    class LossyFifo extends FifoOrder {
      override remote(msg: ChatMsg, out: Delivery[]) {
        const r = super.remote(msg, out);
        if (msg.seq % 5 === 3) out.pop();
        return r;
      }
    }
    const { page, errors, png } = await counterexample(
      "fifo",
      (_m, _s, n) => new LossyFifo(n),
      "validity",
    );
    // Its send and a "missing" mark on the life that lacks it.
    expect(await page.locator("use.missing.hot").count()).toBeGreaterThan(0);
    expect(await page.locator("use.send.hot").count()).toBeGreaterThan(0);
    await page.locator("use.missing").first().dispatchEvent("click");
    expect(await page.locator("#info").textContent()).toContain("MISSING at node");
    await fitScreenshot(page);
    await page.screenshot({ path: shot(png) });
    expect(errors).toEqual([]);
  }, 300_000);

  it("benchmark charts: a real 2-node run with --plot", async () => {
    const out = join(dir, "bench.html");
    const saved = join(dir, "bench.json");
    const r = spawnSync(
      process.execPath,
      [
        CLI,
        "bench",
        "--nodes",
        "2",
        "--count",
        "50",
        "--warmup-runs",
        "0",
        "--no-baseline",
        "-q",
        "--drop",
        "0.05",
        "--save",
        saved,
        "--plot",
        out,
      ],
      { encoding: "utf8", timeout: 90_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    const b = await load(out);
    expect(await b.page.locator("#cdf polyline.series").count()).toBe(1);
    expect(await b.page.locator("#scale g.series circle").count()).toBe(1);
    expect(await b.page.locator("#retx rect.series").count()).toBe(1);
    expect(b.errors).toEqual([]);
    // The same charts from the saved report.
    const again = join(dir, "bench2.html");
    const s = spawnSync(process.execPath, [CLI, "bench", "--from", saved, "--plot", again], {
      encoding: "utf8",
    });
    expect(s.status, s.stderr).toBe(0);
    expect(readFileSync(again, "utf8")).toBe(readFileSync(out, "utf8"));
  });
});
