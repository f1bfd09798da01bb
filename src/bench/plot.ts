import { readFileSync, writeFileSync } from "node:fs";
import { UsageError } from "../cli/errors.js";
import { esc, page, px } from "../trace/html.js";
import type { Report } from "./report.js";
import type { Aggregate } from "./stats.js";
import { describe } from "./workloads.js";

/**
 * `rmchat bench --plot FILE`: the report as one self-contained HTML page of inline SVG
 * charts: latency CDF per workload, throughput per node against N, retransmissions.
 * Each chart element carries a <title> (hover shows the figure); chart groups have ids
 * (`cdf`, `scale`, `retx`) and series the class `series`.
 */

const PALETTE = [
  "#1f77b4",
  "#d62728",
  "#2ca02c",
  "#9467bd",
  "#ff7f0e",
  "#8c564b",
  "#e377c2",
  "#17becf",
  "#7f7f7f",
  "#bcbd22",
];
const W = 820;
const H = 340;
const M = { l: 64, r: 28, t: 16, b: 44 };
const color = (i: number): string => PALETTE[i % PALETTE.length] as string;

/** Round step for about `n` ticks over [a, b]. */
function ticks(a: number, b: number, n: number): number[] {
  const span = b - a || 1;
  const raw = span / n;
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  const step = (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
  const out: number[] = [];
  for (let t = Math.ceil(a / step) * step; t <= b + step * 1e-9; t += step)
    out.push(Number(t.toPrecision(12)));
  return out;
}

const fmt = (x: number): string =>
  x >= 1000
    ? `${Number((x / 1000).toPrecision(3))}k`
    : x >= 1
      ? String(Number(x.toPrecision(3)))
      : String(Number(x.toPrecision(2)));

function frame(
  id: string,
  xLabel: string,
  yLabel: string,
  xt: Array<[number, string]>,
  yt: Array<[number, string]>,
  inner: string,
): string {
  const out = [
    `<svg id="${id}" class="chart" xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}">`,
  ];
  for (const [x, s] of xt) {
    out.push(
      `<line class="grid" x1="${px(x)}" x2="${px(x)}" y1="${M.t}" y2="${H - M.b}"/><text class="tl" x="${px(x)}" y="${H - M.b + 14}" text-anchor="middle">${esc(s)}</text>`,
    );
  }
  for (const [y, s] of yt) {
    out.push(
      `<line class="grid" x1="${M.l}" x2="${W - M.r}" y1="${px(y)}" y2="${px(y)}"/><text class="tl" x="${M.l - 6}" y="${px(y + 3)}" text-anchor="end">${esc(s)}</text>`,
    );
  }
  out.push(
    `<rect class="axis" x="${M.l}" y="${M.t}" width="${W - M.l - M.r}" height="${H - M.t - M.b}"/>`,
    `<text class="al" x="${(M.l + W - M.r) / 2}" y="${H - 8}" text-anchor="middle">${esc(xLabel)}</text>`,
    `<text class="al" transform="translate(14 ${(M.t + H - M.b) / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`,
    inner,
    "</svg>",
  );
  return out.join("\n");
}

function legend(items: Array<{ label: string; color: string; note?: string }>): string {
  return `<div class="legend">${items
    .map(
      (i) =>
        `<span><i style="background:${i.color}"></i>${esc(i.label)}${i.note ? ` <em>${esc(i.note)}</em>` : ""}</span>`,
    )
    .join("")}</div>`;
}

/** The CDF of a row: recorded points, or (older saved reports) its four quantiles. */
function cdfOf(r: Aggregate): { pts: Array<[number, number]>; approx: boolean } {
  if (Array.isArray(r.latencyCdf) && r.latencyCdf.length > 0)
    return { pts: r.latencyCdf, approx: false };
  const l = r.median.latency;
  const pts: Array<[number, number]> = [
    [l.p50, 0.5],
    [l.p90, 0.9],
    [l.p99, 0.99],
    [l.max, 1],
  ].filter(([v]) => Number.isFinite(v) && (v as number) > 0) as Array<[number, number]>;
  return { pts, approx: true };
}

function latencyChart(rows: Aggregate[]): string {
  const series = rows.map((r, i) => ({ r, i, ...cdfOf(r) })).filter((s) => s.pts.length > 0);
  if (series.length === 0) return "<p>No latency samples.</p>";
  const xs = series.flatMap((s) => s.pts.map(([v]) => Math.max(v, 0.001)));
  const lo = Math.log10(Math.min(...xs));
  const hi = Math.log10(Math.max(...xs));
  const a = Math.floor(lo);
  const b = Math.max(Math.ceil(hi), a + 1);
  const X = (v: number): number =>
    M.l + ((Math.log10(Math.max(v, 0.001)) - a) / (b - a)) * (W - M.l - M.r);
  const Y = (q: number): number => H - M.b - q * (H - M.t - M.b);
  const xt: Array<[number, string]> = [];
  for (let e = a; e <= b; e++)
    xt.push([X(10 ** e), e >= 3 ? `${10 ** (e - 3)} s` : `${Number((10 ** e).toPrecision(1))} ms`]);
  const yt = ticks(0, 1, 5).map((q): [number, string] => [Y(q), `${Math.round(q * 100)}%`]);
  const inner = series
    .map((s) => {
      // A step function: the fraction stays until the next latency.
      const pts: string[] = [];
      let prevQ = 0;
      for (const [v, q] of s.pts) {
        pts.push(`${px(X(v))},${px(Y(prevQ))}`, `${px(X(v))},${px(Y(q))}`);
        prevQ = q;
      }
      const tip = `${describe(s.r.spec)}: p50 ${fmt(s.r.median.latency.p50)} ms, p99 ${fmt(s.r.median.latency.p99)} ms, max ${fmt(s.r.median.latency.max)} ms`;
      return `<polyline class="series" fill="none" stroke="${color(s.i)}" stroke-width="1.8" points="${pts.join(" ")}"><title>${esc(tip)}</title></polyline>`;
    })
    .join("\n");
  return (
    frame(
      "cdf",
      "one-way latency (send call to delivery), log scale",
      "deliveries at or below",
      xt,
      yt,
      inner,
    ) +
    legend(
      series.map((s) => ({
        label: describe(s.r.spec),
        color: color(s.i),
        ...(s.approx ? { note: "(p50/p90/p99/max only)" } : {}),
      })),
    )
  );
}

function scaleChart(rows: Aggregate[]): string {
  const groups = new Map<string, Aggregate[]>();
  for (const r of rows) {
    const s = r.spec;
    const k = `${s.workload} ${s.ordering}, ${s.size} B, drop ${s.drop}${s.delay > 0 ? `, delay ${s.delay}` : ""}`;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  const ys = rows.map((r) => r.median.throughputPerNode).filter((v) => Number.isFinite(v));
  if (ys.length === 0) return "<p>No throughput figures.</p>";
  const ns = rows.map((r) => r.spec.nodes);
  const nLo = Math.min(...ns);
  const nHi = Math.max(...ns, nLo + 1);
  const yHi = Math.max(...ys) * 1.1 || 1;
  const X = (n: number): number =>
    M.l +
    20 +
    ((Math.log2(n) - Math.log2(nLo)) / (Math.log2(nHi) - Math.log2(nLo) || 1)) *
      (W - M.l - M.r - 40);
  const Y = (v: number): number => H - M.b - (v / yHi) * (H - M.t - M.b);
  const xt = [...new Set(ns)].sort((p, q) => p - q).map((n): [number, string] => [X(n), String(n)]);
  const yt = ticks(0, yHi, 5).map((v): [number, string] => [Y(v), fmt(v)]);
  const keys = [...groups.keys()];
  const inner = keys
    .map((k, gi) => {
      const list = (groups.get(k) as Aggregate[])
        .filter((r) => Number.isFinite(r.median.throughputPerNode))
        .sort((p, q) => p.spec.nodes - q.spec.nodes);
      const pts = list
        .map((r) => `${px(X(r.spec.nodes))},${px(Y(r.median.throughputPerNode))}`)
        .join(" ");
      const dots = list
        .map(
          (r) =>
            `<circle cx="${px(X(r.spec.nodes))}" cy="${px(Y(r.median.throughputPerNode))}" r="4" fill="${color(gi)}"><title>${esc(`${describe(r.spec)}: ${fmt(r.median.throughputPerNode)} deliveries/s per node`)}</title></circle>`,
        )
        .join("");
      return `<g class="series"><polyline fill="none" stroke="${color(gi)}" stroke-width="1.8" points="${pts}"/>${dots}</g>`;
    })
    .join("\n");
  return (
    frame("scale", "nodes (N), log scale", "deliveries/s at the slowest node", xt, yt, inner) +
    legend(keys.map((k, i) => ({ label: k, color: color(i) })))
  );
}

function retxChart(rows: Aggregate[]): string {
  const barH = 18;
  const labelW = 380;
  const h = M.t + rows.length * (barH + 6) + 30;
  const vals = rows.map((r) =>
    Number.isFinite(r.median.retransmissions) ? r.median.retransmissions : 0,
  );
  const hi = Math.max(...vals, 1);
  const X = (v: number): number => labelW + (v / hi) * (W - labelW - 170);
  const out = [
    `<svg id="retx" class="chart" xmlns="http://www.w3.org/2000/svg" width="${W}" height="${h}">`,
  ];
  rows.forEach((r, i) => {
    const y = M.t + i * (barH + 6);
    const v = vals[i] as number;
    const dpm = r.median.datagramsPerMsg;
    const tip = `${describe(r.spec)}: ${v} retransmissions (median of ${r.runs} run(s)), ${Number.isFinite(dpm) ? dpm.toFixed(2) : "—"} datagrams per message`;
    out.push(
      `<text class="tl" x="${labelW - 8}" y="${y + 13}" text-anchor="end">${esc(describe(r.spec))}</text>`,
      `<rect class="series" x="${labelW}" y="${y}" width="${px(Math.max(1, X(v) - labelW))}" height="${barH}" fill="${color(i)}"><title>${esc(tip)}</title></rect>`,
      `<text class="tl" x="${px(X(v) + 6)}" y="${y + 13}">${fmt(v)}${Number.isFinite(dpm) ? ` · ${dpm.toFixed(2)} dgram/msg` : ""}</text>`,
    );
  });
  out.push("</svg>");
  return out.join("\n");
}

const CSS = `
main{padding:8px 12px}
h2{font-size:14px;margin:18px 0 4px}
.chart{display:block}
.grid{stroke:#eee}
.axis{fill:none;stroke:#999}
.tl{font-size:11px;fill:#444}
.al{font-size:12px;fill:#222}
.legend{display:flex;flex-wrap:wrap;gap:4px 14px;margin:4px 0 8px;max-width:${W}px}
.legend i{display:inline-block;width:12px;height:3px;margin-right:5px;vertical-align:middle}
.legend em{color:#888}
.meta{color:#555}
`;

export function renderBenchPlot(r: Report): string {
  const m = r.machine;
  const rows = r.rows;
  const title = `rmchat bench: ${r.command}`;
  const body = `<header><h1>${esc(title)}</h1>
<div class="meta">${esc(`${m.cores} × ${m.cpu}, ${m.memoryGb} GB, ${m.kernel}, node ${m.node}; load average ${m.loadAtStart.toFixed(2)} at start; ${rows.length} workload(s)`)}</div></header>
<main>
<h2>Latency CDF per workload</h2>
${latencyChart(rows)}
<h2>Throughput per node against N</h2>
${scaleChart(rows)}
<h2>Retransmissions per workload</h2>
${retxChart(rows)}
</main>`;
  return page(title, CSS, body);
}

/** A report saved with `--save`: checked enough to plot, or a one-line reason. */
export function parseSavedReport(
  text: string,
): { ok: true; report: Report } | { ok: false; why: string } {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { ok: false, why: "not JSON" };
  }
  const r = v as Partial<Report> | null;
  if (
    typeof r !== "object" ||
    r === null ||
    !Array.isArray(r.rows) ||
    typeof r.machine !== "object"
  )
    return { ok: false, why: "not a bench report (no rows or machine)" };
  for (const row of r.rows as unknown[]) {
    const x = row as Partial<Aggregate> | null;
    if (
      typeof x !== "object" ||
      x === null ||
      typeof x.spec !== "object" ||
      typeof x.median !== "object"
    )
      return { ok: false, why: "a row without spec or median" };
    // JSON has no NaN: the report wrote missing figures as null.
    const med = x.median as unknown as Record<string, unknown>;
    for (const k of ["throughputPerNode", "retransmissions", "datagramsPerMsg"]) {
      if (med[k] === null) med[k] = Number.NaN;
    }
    const lat = med.latency as Record<string, unknown> | undefined;
    if (typeof lat !== "object" || lat === null) return { ok: false, why: "a row without latency" };
    for (const k of ["p50", "p90", "p99", "max"]) if (lat[k] === null) lat[k] = Number.NaN;
  }
  return { ok: true, report: r as Report };
}

/** `--from SAVED --plot OUT`: chart a saved report without running anything. */
export function plotSaved(from: string, out: string): void {
  let text: string;
  try {
    text = readFileSync(from, "utf8");
  } catch (e) {
    throw new UsageError(`cannot read ${from}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  const r = parseSavedReport(text);
  if (!r.ok) throw new UsageError(`${from}: ${r.why}`);
  writePlot(out, r.report);
}

/** Write the charts of a report; a UsageError when the file cannot be written. */
export function writePlot(out: string, report: Report): void {
  try {
    writeFileSync(out, renderBenchPlot(report));
  } catch (e) {
    throw new UsageError(`cannot write ${out}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  process.stderr.write(`rmchat bench: charts written to ${out}\n`);
}
