import type { Arguments, Argv } from "yargs";
import { distance } from "../chat/commands.js";
import { UsageError } from "./errors.js";

export const SUBCOMMANDS = ["agent", "bench", "keygen", "status"] as const;

/** `rmchat stauts`: a word where a chat node's id belongs is a mistyped subcommand. */
export function unknownCommand(word: string): string {
  const shown = JSON.stringify(word.length > 30 ? `${word.slice(0, 30)}…` : word);
  const close = SUBCOMMANDS.filter((c) => c.startsWith(word) || distance(word, c) <= 2);
  const hint = close.length > 0 ? `: did you mean ${close.map((c) => `"${c}"`).join(" or ")}?` : "";
  return `unknown command ${shown}${hint} (commands: ${SUBCOMMANDS.join(", ")}; a chat node's id must be a non-negative integer; rmchat --help shows usage)`;
}

/** `--log-level` → `RMCHAT_LOG_LEVEL`. */
export function envName(flag: string): string {
  return `RMCHAT_${flag.toUpperCase().replaceAll("-", "_")}`;
}

function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

function parseBoolean(name: string, raw: string): boolean {
  const v = raw.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(v)) return true;
  if (["0", "false", "no", "off", ""].includes(v)) return false;
  throw new UsageError(`${name} must be true or false (or 1/0), got "${raw}"`);
}

interface YargsOptions {
  key: Record<string, unknown>;
  boolean: string[];
  number: string[];
  array: string[];
  alias: Record<string, string[]>;
}

/**
 * yargs middleware, before validation: every flag of the command being run may come from the
 * environment as RMCHAT_<FLAG> (as etcd reads ETCD_*); a flag on the command line wins.
 * Variables for flags this command does not have are ignored, so one environment can serve
 * `rmchat agent` and `rmchat status` alike.
 */
export function applyEnvironment(
  args: Arguments,
  y: Argv,
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): void {
  const o = (y as unknown as { getOptions(): YargsOptions }).getOptions();
  const end = argv.indexOf("--");
  const given = end === -1 ? argv : argv.slice(0, end);
  for (const key of Object.keys(o.key)) {
    if (key === "help" || key === "version") continue;
    const name = envName(key);
    const raw = env[name];
    if (raw === undefined) continue;
    const spellings = new Set([key, camel(key), ...(o.alias[key] ?? [])]);
    for (const [k, aliases] of Object.entries(o.alias)) if (aliases.includes(key)) spellings.add(k);
    const onCommandLine = given.some((t) =>
      [...spellings].some((s) => {
        const flag = s.length === 1 ? `-${s}` : `--${s}`;
        return t === flag || t.startsWith(`${flag}=`) || t === `--no-${s}`;
      }),
    );
    if (onCommandLine) continue;
    let value: unknown = raw;
    if (o.boolean.includes(key)) value = parseBoolean(name, raw);
    else if (o.number.includes(key)) value = raw.trim() === "" ? Number.NaN : Number(raw);
    else if (o.array.includes(key)) value = raw.split(/[\s,]+/).filter((s) => s.length > 0);
    for (const s of spellings) args[s] = value;
  }
}
