import {
  closeSync,
  existsSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readFileSync,
  realpathSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
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
 * Mount points of this process's mount namespace (/proc/self/mountinfo, field 5, with the
 * kernel's octal escapes undone). Empty where /proc is not there.
 */
export function mountPoints(mountinfo = "/proc/self/mountinfo"): Set<string> {
  let text: string;
  try {
    text = readFileSync(mountinfo, "utf8");
  } catch {
    return new Set();
  }
  const points = new Set<string>();
  for (const line of text.split("\n")) {
    const field = line.split(" ")[4];
    if (field)
      points.add(
        field.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))),
      );
  }
  return points;
}

/** A file that is a mount point of its own (a container's bind-mounted /etc/hosts). */
export function isMountPoint(path: string): boolean {
  try {
    return mountPoints().has(realpathSync(path));
  } catch {
    return false;
  }
}

/**
 * Rewrite in place: write from the start, truncate to the new length, fsync. For a file that
 * cannot be replaced by rename because it is a mount point: readers may see a half-written
 * file for that instant, as with every tool that edits a container's /etc/hosts.
 */
function writeInPlace(path: string, text: string): void {
  const fd = openSync(path, "r+");
  try {
    const bytes = Buffer.from(text, "utf8");
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off, off);
    ftruncateSync(fd, bytes.length);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Write atomically: a temporary file in the same directory, fsync, rename over the target
 * (readers see the old file or the new one, never half of one). The file's mode is kept.
 * A file that is a mount point (a bind-mounted /etc/hosts in Docker or Kubernetes) cannot be
 * renamed over (EBUSY; EXDEV across file systems): it is rewritten in place, and no temporary
 * file is left behind.
 */
export function writeHostsFile(
  path: string,
  name: string,
  epoch: Epoch,
  table: readonly TableEntry[],
): "renamed" | "in-place" | "unchanged" {
  const old = existsSync(path) ? readFileSync(path, "utf8") : "";
  const text = replaceBlock(old, name, renderBlock(name, epoch, table));
  if (text === old) return "unchanged";
  if (existsSync(path) && isMountPoint(path)) {
    writeInPlace(path, text);
    return "in-place";
  }
  const tmp = join(dirname(path), `.${basename(path)}.rmchat-${process.pid}.tmp`);
  try {
    writeDurably(path, text, existsSync(path) ? statSync(path).mode & 0o777 : 0o644, tmp);
    return "renamed";
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // gone already
    }
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "EBUSY" && code !== "EXDEV") throw e;
    writeInPlace(path, text);
    return "in-place";
  }
}
