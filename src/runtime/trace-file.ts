import { closeSync, openSync, writeSync } from "node:fs";
import type { TraceRecord } from "../trace/events.js";

/**
 * `--trace FILE`: trace records appended to FILE, one JSON object per line. Records are
 * buffered and written with one write call per event-loop turn (`flush`), so a killed
 * process loses at most its last turn and never leaves half a line behind other lines.
 */
export class TraceFile {
  private fd: number | undefined;
  private buf: string[] = [];

  /** Opens (creates) FILE for appending; throws the errno code on failure. */
  constructor(readonly path: string) {
    this.fd = openSync(path, "a");
  }

  write(rec: TraceRecord): void {
    if (this.fd !== undefined) this.buf.push(`${JSON.stringify(rec)}\n`);
  }

  flush(): void {
    if (this.fd === undefined || this.buf.length === 0) return;
    const text = this.buf.join("");
    this.buf = [];
    try {
      writeSync(this.fd, text);
    } catch {
      // A full disk must not stop the node: tracing ends, the protocol goes on.
      this.close();
    }
  }

  close(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.flush();
    this.fd = undefined;
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
  }
}
