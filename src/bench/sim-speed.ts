import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ORDERINGS, type Ordering } from "../core/types.js";

/** The fuzz campaign's speed per mode: the same scenarios (fixed seed) on one worker. */
export interface SimSpeed {
  mode: Ordering;
  runsPerSec: number;
  /** The campaign's verdict (a failing scenario shrinks, which is slower). */
  ok: boolean;
  error?: string;
}

/** dist/fuzz/main.js (not in the npm package: the repository's build only). */
function fuzzScript(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const js = join(here, "..", "fuzz", "main.js");
  if (existsSync(js)) return js;
  return join(here, "..", "..", "dist", "fuzz", "main.js");
}

/** Seed of the measured campaigns: the same scenarios in every run of the benchmark. */
export const SIM_SEED = 20261201;

function runMode(mode: Ordering, runs: number, timeoutMs: number): Promise<SimSpeed> {
  const script = fuzzScript();
  if (!existsSync(script)) {
    return Promise.resolve({
      mode,
      runsPerSec: Number.NaN,
      ok: false,
      error: `${script} is missing`,
    });
  }
  return new Promise((resolve) => {
    const args = [
      script,
      "--runs",
      String(runs),
      "--mode",
      mode,
      "--seed",
      String(SIM_SEED),
      "--jobs",
      "1",
    ];
    const p = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "ignore"] });
    let out = "";
    p.stdout.on("data", (b: Buffer) => {
      if (out.length < 100_000) out += b.toString();
    });
    const timer = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
    p.on("close", (code, sig) => {
      clearTimeout(timer);
      const m = new RegExp(`^${mode}: (ok|FAILED), .*: ([\\d.]+) runs/s`, "m").exec(out);
      if (!m) {
        resolve({
          mode,
          runsPerSec: Number.NaN,
          ok: false,
          error: sig ? `timed out after ${timeoutMs / 1000} s` : `fuzz exited with ${code}`,
        });
        return;
      }
      resolve({ mode, runsPerSec: Number(m[2]), ok: m[1] === "ok" });
    });
  });
}

/** `runs` scenarios per mode, one mode after the other. */
export async function measureSimSpeed(runs: number, timeoutMs: number): Promise<SimSpeed[]> {
  const out: SimSpeed[] = [];
  for (const mode of ORDERINGS) out.push(await runMode(mode, runs, timeoutMs));
  return out;
}
