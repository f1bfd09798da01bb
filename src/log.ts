export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";
export const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error", "silent"];
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

export type LogFields = Record<string, unknown>;

/** Keys every record has; a field of the same name is kept as `fields.<key>` instead. */
export const RESERVED_LOG_KEYS: readonly string[] = ["time", "level", "msg"];

/** One log record: `time` (ISO 8601), `level`, `msg` first, then the fields, none overwriting those. */
export function logRecord(
  time: Date,
  level: string,
  msg: string,
  ...fieldSets: LogFields[]
): Record<string, unknown> {
  // No prototype: a field named "__proto__" is a plain key like any other.
  const rec: Record<string, unknown> = Object.assign(Object.create(null), {
    time: time.toISOString(),
    level,
    msg,
  });
  for (const fields of fieldSets) {
    for (const [k, v] of Object.entries(fields)) {
      rec[RESERVED_LOG_KEYS.includes(k) ? `fields.${k}` : k] = v;
    }
  }
  return rec;
}

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
    this.sink(`${JSON.stringify(logRecord(new Date(), level, msg, this.base, fields))}\n`);
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
