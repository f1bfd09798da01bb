import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** The parts of a V8 .cpuprofile this summary reads. */
interface CpuProfile {
  nodes: Array<{
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
  }>;
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  files: number;
  /** Sampled ms inside the measured runs, all node processes together. */
  totalMs: number;
  /** Share of samples by part of the program, e.g. "protocol core", "GC". */
  parts: Array<{ part: string; ms: number; pct: number }>;
  /** Functions by self time. */
  top: Array<{ fn: string; ms: number; pct: number }>;
}

function partOf(url: string, fn: string): string {
  if (url.includes("/core/")) return "protocol core (src/core)";
  if (url.includes("/runtime/")) return "UDP shell (src/runtime)";
  if (url.includes("/bench/")) return "benchmark driver and checks (src/bench)";
  if (url.includes("msgpackr")) return "msgpackr";
  if (url.startsWith("node:dgram") || url.startsWith("node:internal/dgram")) return "node:dgram";
  if (fn === "(garbage collector)") return "GC";
  if (fn === "(idle)") return "idle";
  if (url.startsWith("node:")) return "other Node internals";
  return fn.startsWith("(") ? fn : "other";
}

/**
 * Self time of every function sampled inside the measured runs (`windows`, monotonic ms, the
 * clock V8 stamps profiles with), from the profiles `--cpu-prof` wrote into `dir`.
 */
export function summarizeProfiles(
  dir: string,
  windows: Array<[number, number]>,
  topN = 15,
): ProfileSummary {
  const files = readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"));
  const byFn = new Map<string, number>();
  const byPart = new Map<string, number>();
  let total = 0;
  const inWindow = (tMs: number): boolean => windows.some(([a, b]) => tMs >= a && tMs <= b);
  for (const f of files) {
    let p: CpuProfile;
    try {
      p = JSON.parse(readFileSync(join(dir, f), "utf8")) as CpuProfile;
    } catch {
      continue;
    }
    const nodes = new Map(p.nodes.map((n) => [n.id, n]));
    let t = p.startTime;
    for (let i = 0; i < p.samples.length; i++) {
      const dt = p.timeDeltas[i] ?? 0;
      t += dt;
      if (!inWindow(t / 1000)) continue;
      const n = nodes.get(p.samples[i] as number);
      if (!n) continue;
      const { functionName, url, lineNumber } = n.callFrame;
      const name = functionName || "(anonymous)";
      const where = url
        ? ` ${url.replace(/^.*\/(dist|node_modules)\//, "")}:${lineNumber + 1}`
        : "";
      const key = `${name}${where}`;
      byFn.set(key, (byFn.get(key) ?? 0) + dt);
      const part = partOf(url, name);
      byPart.set(part, (byPart.get(part) ?? 0) + dt);
      total += dt;
    }
  }
  const pct = (us: number) => (total > 0 ? (100 * us) / total : 0);
  return {
    files: files.length,
    totalMs: total / 1000,
    parts: [...byPart]
      .sort((a, b) => b[1] - a[1])
      .map(([part, us]) => ({ part, ms: us / 1000, pct: pct(us) })),
    top: [...byFn]
      .sort((a, b) => b[1] - a[1])
      .slice(0, topN)
      .map(([fn, us]) => ({ fn, ms: us / 1000, pct: pct(us) })),
  };
}

export function formatProfile(s: ProfileSummary, dir: string): string {
  const out = [
    `CPU profile (${s.files} node processes, ${s.totalMs.toFixed(0)} ms sampled inside the measured runs; files in ${dir}):`,
  ];
  for (const p of s.parts) out.push(`  ${p.pct.toFixed(1).padStart(5)}%  ${p.part}`);
  out.push("  top functions by self time:");
  for (const f of s.top) out.push(`  ${f.pct.toFixed(1).padStart(5)}%  ${f.fn}`);
  return out.join("\n");
}
