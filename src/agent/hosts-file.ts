import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { writeDurably } from "../runtime/hard-state.js";
import type { Epoch, TableEntry } from "./table.js";

const begin = (name: string): string => `# BEGIN rmchat ${name}`;
const end = (name: string): string => `# END rmchat ${name}`;

/** The marked block: `<host> NAME-<k>  # node <id>`, between BEGIN/END marker lines. */
export function renderBlock(name: string, epoch: Epoch, table: readonly TableEntry[]): string {
  const lines = [`${begin(name)} (epoch ${epoch.term}.${epoch.version}; written by rmchat agent)`];
  for (const e of table) lines.push(`${e.host} ${e.name}  # node ${e.id}`);
  lines.push(end(name));
  return `${lines.join("\n")}\n`;
}

/** Replace our marked block in `text` (or append it), leaving every other line as it was. */
export function replaceBlock(text: string, name: string, block: string): string {
  const lines = text.length > 0 ? text.replace(/\n$/, "").split("\n") : [];
  const b = lines.findIndex((l) => l.startsWith(begin(name)));
  const e = b < 0 ? -1 : lines.findIndex((l, i) => i > b && l === end(name));
  const before = b < 0 ? lines : lines.slice(0, b);
  const after = b < 0 || e < 0 ? [] : lines.slice(e + 1);
  const head = before.length > 0 ? `${before.join("\n")}\n` : "";
  const tail = after.length > 0 ? `${after.join("\n")}\n` : "";
  return head + block + tail;
}

/**
 * Write atomically: a temporary file in the same directory, fsync, rename over the target
 * (readers see the old file or the new one, never half of one). The file's mode is kept.
 */
export function writeHostsFile(
  path: string,
  name: string,
  epoch: Epoch,
  table: readonly TableEntry[],
): void {
  const old = existsSync(path) ? readFileSync(path, "utf8") : "";
  const text = replaceBlock(old, name, renderBlock(name, epoch, table));
  if (text === old) return;
  const tmp = join(dirname(path), `.${basename(path)}.rmchat-${process.pid}.tmp`);
  writeDurably(path, text, existsSync(path) ? statSync(path).mode & 0o777 : 0o644, tmp);
}
