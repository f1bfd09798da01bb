import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { HardState } from "../core/membership/election.js";

/**
 * Term and vote on disk, so that a restarted process never votes twice in one term (Raft's
 * persistent state). One small JSON file per node, replaced atomically and fsynced before
 * any datagram that depends on it leaves.
 */
export class HardStateFile {
  readonly path: string;

  constructor(dir: string | undefined, address: string, port: number) {
    const d = dir ?? join(tmpdir(), "rmchat-state");
    mkdirSync(d, { recursive: true });
    this.path = join(d, `${address}-${port}.json`);
  }

  load(): HardState | undefined {
    try {
      const raw = JSON.parse(readFileSync(this.path, "utf8")) as Partial<HardState>;
      if (typeof raw.term === "number" && typeof raw.votedFor === "number") {
        return { term: raw.term, votedFor: raw.votedFor };
      }
    } catch {
      // none yet, or unreadable: start from term 0
    }
    return undefined;
  }

  /**
   * The epoch of this life for sealing: the wall clock in ms, but always above the last
   * life's (a clock stepped back must not repeat nonces). Stored and fsynced before use.
   */
  nextEpoch(nowMs: number): number {
    const path = `${this.path.slice(0, -".json".length)}.epoch`;
    let last = 0;
    try {
      last = Number(readFileSync(path, "utf8").trim()) || 0;
    } catch {
      // first life on this machine (or an unreadable file: the clock alone then)
    }
    const epoch = Math.max(Math.floor(nowMs), last + 1);
    writeDurably(path, String(epoch));
    return epoch;
  }

  save(h: HardState): void {
    writeDurably(this.path, JSON.stringify(h));
  }
}

/** Replace `path` atomically: a temporary file `tmp` (created with `mode`), fsync, rename. */
export function writeDurably(path: string, text: string, mode = 0o600, tmp = `${path}.tmp`): void {
  const fd = openSync(tmp, "w", mode);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}
