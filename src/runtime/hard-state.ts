import {
  closeSync,
  constants,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { homedir } from "node:os";
import { isAbsolute, join } from "node:path";
import type { HardState } from "../core/membership/election.js";

/** The state directory cannot be used (not a directory, no permission, a symlinked state file). */
export class StateDirError extends Error {}

/**
 * Where state lives when the config names no `stateDir`: `$STATE_DIRECTORY` (set by systemd's
 * `StateDirectory=`; the first of a colon-separated list), else `$XDG_STATE_HOME/rmchat`, else
 * `/var/lib/rmchat` for root and `~/.local/state/rmchat` for everyone else.
 */
export function defaultStateDir(
  env: NodeJS.ProcessEnv = process.env,
  uid: number = process.getuid?.() ?? -1,
  home: string = homedir(),
): string {
  const systemd = env.STATE_DIRECTORY?.split(":")[0];
  if (systemd) return systemd;
  // The XDG spec: a relative value is invalid and must be ignored.
  if (env.XDG_STATE_HOME && isAbsolute(env.XDG_STATE_HOME))
    return join(env.XDG_STATE_HOME, "rmchat");
  return uid === 0 ? "/var/lib/rmchat" : join(home, ".local", "state", "rmchat");
}

const NOFOLLOW = constants.O_NOFOLLOW;

function describe(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  if (code === "ENOTDIR" || code === "EEXIST") return "a path component is not a directory";
  if (code === "EROFS") return "read-only file system";
  if (code === "ELOOP") return "it is a symbolic link (refused)";
  return code ?? String(e);
}

/**
 * Term and vote on disk, so that a restarted process never votes twice in one term (Raft's
 * persistent state). One small JSON file per node, replaced atomically and fsynced before
 * any datagram that depends on it leaves. The directory is created with mode 0700; the files
 * are opened with O_NOFOLLOW, so a symbolic link planted in their place is refused, never
 * followed.
 */
export class HardStateFile {
  readonly path: string;

  constructor(dir: string | undefined, address: string, port: number) {
    const d = dir ?? defaultStateDir();
    try {
      mkdirSync(d, { recursive: true, mode: 0o700 });
      if (!statSync(d).isDirectory()) throw Object.assign(new Error(), { code: "ENOTDIR" });
    } catch (e) {
      throw new StateDirError(`cannot use the state directory ${d}: ${describe(e)}`);
    }
    // "::1" has colons, which some tools dislike in file names.
    this.path = join(d, `${address.replaceAll(":", "_")}-${port}.json`);
  }

  /** The stored term and vote; undefined when there are none yet. Throws StateDirError. */
  load(): HardState | undefined {
    let text: string;
    try {
      const fd = openSync(this.path, constants.O_RDONLY | NOFOLLOW);
      try {
        text = readFileSync(fd, "utf8");
      } finally {
        closeSync(fd);
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw new StateDirError(`cannot read the state file ${this.path}: ${describe(e)}`);
    }
    try {
      const raw = JSON.parse(text) as Partial<HardState>;
      if (typeof raw.term === "number" && typeof raw.votedFor === "number") {
        return { term: raw.term, votedFor: raw.votedFor };
      }
    } catch {
      // written atomically, so only a foreign file gets here: start from term 0
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
  try {
    unlinkSync(tmp);
  } catch {
    // none left over
  }
  // O_EXCL | O_NOFOLLOW: a file or link that appeared in between is an error, not a target.
  const fd = openSync(
    tmp,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | NOFOLLOW,
    mode,
  );
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}
