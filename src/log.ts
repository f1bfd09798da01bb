export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";
export const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error", "silent"];
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

export type LogFields = Record<string, unknown>;

/** Structured logs: one JSON object per line on stderr (or the given sink). */
export class Logger {
  constructor(
    public level: LogLevel,
    private readonly base: LogFields = {},
    public sink: (line: string) => void = (l) => {
      process.stderr.write(l);
    },
  ) {}

  enabled(level: LogLevel): boolean {
    return RANK[level] >= RANK[this.level];
  }

  log(level: Exclude<LogLevel, "silent">, msg: string, fields: LogFields = {}): void {
    if (!this.enabled(level)) return;
    const rec = { t: new Date().toISOString(), level, msg, ...this.base, ...fields };
    this.sink(`${JSON.stringify(rec)}\n`);
  }

  debug(msg: string, fields?: LogFields): void {
    this.log("debug", msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.log("info", msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.log("warn", msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    this.log("error", msg, fields);
  }
}
