import { readFileSync, statSync } from "node:fs";
import type { NodeId } from "../core/types.js";

/**
 * A partition injected from outside, for tests and demonstrations: the file named by
 * RMCHAT_PARTITION_FILE holds a JSON array of node ids this process cannot reach (both
 * directions). It is re-read when it changes (checked every 200 ms); a missing or empty file
 * means no partition. Part of the fault layer, like delay and drop.
 */
export class PartitionFile {
  private blocked = new Set<NodeId>();
  private mtime = -1;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly path: string) {
    this.reload();
    this.timer = setInterval(() => this.reload(), 200);
    this.timer.unref();
  }

  has(id: NodeId | undefined): boolean {
    return id !== undefined && this.blocked.has(id);
  }

  private reload(): void {
    let m = -2;
    try {
      m = statSync(this.path).mtimeMs;
    } catch {
      // missing: no partition
    }
    if (m === this.mtime) return;
    this.mtime = m;
    try {
      const ids = m < 0 ? [] : (JSON.parse(readFileSync(this.path, "utf8") || "[]") as unknown);
      this.blocked = new Set(
        Array.isArray(ids) ? ids.filter((x): x is number => Number.isInteger(x)) : [],
      );
    } catch {
      this.blocked = new Set();
    }
  }

  close(): void {
    clearInterval(this.timer);
  }
}
