import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";

/** Debian's Chromium (installed by .ci/run); playwright-core never downloads a browser. */
export const CHROMIUM = "/usr/bin/chromium";

export const haveChromium = ((): boolean => {
  if (!existsSync(CHROMIUM)) return false;
  try {
    execFileSync(CHROMIUM, ["--version"], { stdio: "ignore", timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
})();

const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export interface Browser {
  ctx: BrowserContext;
  page: Page;
  /** Console errors and uncaught page errors seen so far. */
  errors: string[];
  /** Requests for anything but the file itself (the page must fetch nothing). */
  fetches: string[];
  close(): Promise<void>;
}

/** Headless Chromium with a fresh profile under `dir`. */
export async function openBrowser(dir: string): Promise<Browser> {
  const profile = mkdtempSync(join(dir, "chromium-profile-"));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1400, height: 700 },
  });
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  const errors: string[] = [];
  const fetches: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("request", (r) => {
    if (!r.url().startsWith("file://")) fetches.push(r.url());
  });
  return { ctx, page, errors, fetches, close: () => ctx.close() };
}
