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

  save(h: HardState): void {
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, "w");
    try {
      writeSync(fd, JSON.stringify(h));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
  }
}
