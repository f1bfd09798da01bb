import { readFileSync, writeFileSync } from "node:fs";
import type { ArgumentsCamelCase, Argv, CommandModule } from "yargs";
import { parseTrace, TraceParseError, type TraceRecord } from "../trace/events.js";
import { buildDiagram } from "../trace/model.js";
import { renderDiagram } from "../trace/render.js";
import { UsageError } from "./errors.js";

function builder(y: Argv) {
  return y
    .positional("files", {
      type: "string",
      array: true,
      describe: "trace files written with --trace (one per process, or one shared file)",
    })
    .option("out", {
      alias: "o",
      type: "string",
      demandOption: true,
      describe: "the HTML file to write (self-contained: inline SVG and script)",
    })
    .option("title", { type: "string", describe: "heading of the page (default: the file names)" });
}

/** Read, validate and merge the trace files; a UsageError names the first problem. */
export function readTraces(files: string[]): { records: TraceRecord[]; skipped: number } {
  const records: TraceRecord[] = [];
  let skipped = 0;
  for (const f of files) {
    let text: string;
    try {
      text = readFileSync(f, "utf8");
    } catch (e) {
      throw new UsageError(`cannot read ${f}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
    try {
      const r = parseTrace(text, f);
      for (const x of r.records) records.push(x);
      skipped += r.skipped;
    } catch (e) {
      if (e instanceof TraceParseError) throw new UsageError(e.message);
      throw e;
    }
  }
  if (records.length === 0) throw new UsageError(`no trace events in ${files.join(", ")}`);
  return { records, skipped };
}

export const traceCommand: CommandModule = {
  command: "trace <files..>",
  describe: "draw trace files (--trace) as a space-time diagram in one self-contained HTML file",
  builder: builder as unknown as CommandModule["builder"],
  handler: (argv: ArgumentsCamelCase) => {
    const files = (argv.files as unknown[]).map(String);
    const out = String(argv.out);
    const { records, skipped } = readTraces(files);
    if (skipped > 0)
      process.stderr.write(
        `rmchat: skipped ${skipped} unfinished last line(s) (a killed process)\n`,
      );
    const title =
      argv.title === undefined ? `rmchat trace: ${files.join(", ")}` : String(argv.title);
    const d = buildDiagram(records, { title });
    const html = renderDiagram(d);
    try {
      writeFileSync(out, html);
    } catch (e) {
      throw new UsageError(
        `cannot write ${out}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
      );
    }
    process.stdout.write(
      `${out}: ${d.lanes.length} lane(s), ${d.arrows.filter((a) => a.kind !== "retx").length} delivery arrow(s), ${d.counts.drops} drop(s), ${d.counts.retransmissions} retransmission(s), ${(html.length / 1024).toFixed(0)} KiB\n`,
    );
  },
};
