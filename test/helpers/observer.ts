import { readdirSync, readFileSync } from "node:fs";

/**
 * An outside observer of leader commands: samples /proc for live processes whose command line is
 * `sleep <marker><node id>` (zombies count as gone) and records the most seen at one instant.
 * Sampled facts: an overlap shorter than the sampling period can be missed, none is invented.
 */
export class CommandObserver {
  samples = 0;
  maxAlive = 0;
  /** The samples with more than one command alive: [ms since start, node ids]. */
  readonly overlaps: Array<[number, string[]]> = [];
  /** Node ids in the order their commands were first seen. */
  readonly seen: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly t0 = performance.now();

  constructor(readonly marker: string) {}

  /** The command to give `--on-leader`: ignores SIGTERM, identifiable by its argument. */
  command(): string {
    return `trap '' TERM; exec sleep ${this.marker}$RMCHAT_NODE_ID`;
  }

  /** Node ids whose command is alive right now. */
  alive(): string[] {
    const prefix = `sleep\0${this.marker}`;
    const ids: string[] = [];
    for (const pid of readdirSync("/proc")) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        const cmd = readFileSync(`/proc/${pid}/cmdline`, "latin1");
        if (!cmd.startsWith(prefix)) continue;
        const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
        if (stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) === "Z") continue;
        ids.push(cmd.slice(prefix.length).replace(/\0.*$/, ""));
      } catch {
        // exited while we looked
      }
    }
    return ids;
  }

  sample(): string[] {
    const ids = this.alive();
    this.samples++;
    if (ids.length > this.maxAlive) this.maxAlive = ids.length;
    if (ids.length > 1) this.overlaps.push([Math.round(performance.now() - this.t0), ids]);
    for (const id of ids) if (!this.seen.includes(id)) this.seen.push(id);
    return ids;
  }

  start(everyMs = 5): this {
    this.timer = setInterval(() => this.sample(), everyMs);
    return this;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
