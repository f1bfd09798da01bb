import type { Argv } from "yargs";
import type { ChatContext } from "../chat/context.js";
import { runPlain } from "../chat/plain.js";
import { runTui } from "../chat/tui.js";
import { loadConfig, resolveConfigPath } from "../config/config.js";
import { ORDERINGS, type Ordering } from "../core/types.js";
import { LOG_LEVELS, Logger, type LogLevel } from "../log.js";
import { validateFaults } from "../runtime/faults.js";
import { formatHostPort } from "../runtime/resolve.js";
import { UsageError } from "./errors.js";
import { metricsOption, parseMetricsAddress, startNode } from "./node-start.js";

export interface ChatArgs {
  id: number;
  delay: number;
  drop: number;
  config?: string | undefined;
  ordering?: string | undefined;
  plain: boolean;
  json: boolean;
  logLevel: string;
}

export function commonOptions<T>(y: Argv<T>) {
  return y
    .option("config", {
      type: "string",
      describe: "config file (default: $RMCHAT_CONFIG, else config/default.json)",
    })
    .option("log-level", {
      type: "string",
      choices: LOG_LEVELS as unknown as string[],
      default: "info",
      describe: "structured logs on stderr at or above this level",
    });
}

export function chatBuilder(y: Argv) {
  return metricsOption(commonOptions(y))
    .positional("id", { type: "string", describe: "this node's index in the config's host list" })
    .positional("delay", {
      type: "string",
      default: "0",
      describe: "mean delay in seconds added to every outgoing datagram (uniform in [0, 2*delay])",
    })
    .positional("drop", {
      type: "string",
      default: "0",
      describe: "probability in [0, 1) that an outgoing datagram is dropped",
    })
    .option("ordering", {
      type: "string",
      describe: `delivery order, overrides the config (${ORDERINGS.join("|")})`,
    })
    .option("plain", {
      type: "boolean",
      default: false,
      describe: "line mode even on a terminal: stdin lines in, `<id> says: <text>` out",
    })
    .option("json", {
      type: "boolean",
      default: false,
      describe: "line mode printing one JSON object per event on stdout",
    });
}

function parseNumber(name: string, raw: unknown): number {
  const s = String(raw).trim();
  const v = s === "" ? Number.NaN : Number(s);
  if (!Number.isFinite(v)) throw new UsageError(`${name} must be a number (got "${String(raw)}")`);
  return v;
}

/** Validate the command line and config; return what the chat needs, or throw a one-line error. */
export function prepareChat(args: Record<string, unknown>) {
  const idRaw = String(args.id);
  if (!/^\d+$/.test(idRaw))
    throw new UsageError(`id must be a non-negative integer (got "${idRaw}")`);
  const id = Number(idRaw);
  const delay = parseNumber("delay", args.delay);
  const drop = parseNumber("drop", args.drop);
  const faultErr = validateFaults(delay, drop);
  if (faultErr) throw new UsageError(faultErr);
  const config = loadConfig(resolveConfigPath(args.config as string | undefined));
  if (args.ordering !== undefined) {
    if (!ORDERINGS.includes(args.ordering as Ordering)) {
      throw new UsageError(
        `unknown ordering "${String(args.ordering)}" (use ${ORDERINGS.join(", ")})`,
      );
    }
    config.ordering = args.ordering as Ordering;
  }
  if (id >= config.hosts.length) {
    throw new UsageError(
      `id ${id} is not in the host list of ${config.path} (0..${config.hosts.length - 1})`,
    );
  }
  const metrics = parseMetricsAddress(args.metrics);
  return { id, delay, drop, config, metrics, logLevel: args.logLevel as LogLevel };
}

export async function runChat(args: Record<string, unknown>): Promise<void> {
  const { id, delay, drop, config, metrics, logLevel } = prepareChat(args);
  const logger = new Logger(logLevel, { node: id });
  const node = await startNode({ id, config, faults: { delay, drop }, logger, metrics });
  const rt = node.rt;
  let stopping = false;
  const shutdown = async (code: number): Promise<never> => {
    if (!stopping) {
      stopping = true;
      await node.close();
    }
    process.exit(code);
  };
  process.on("SIGINT", () => void shutdown(0));
  process.on("SIGTERM", () => void shutdown(0));
  process.stdout.on("error", () => void shutdown(0));
  const json = args.json === true;
  const ctx: ChatContext = { rt, config, id, logger, json, shutdown };
  logger.info("node started", {
    address: formatHostPort(rt.address.address, rt.address.port),
    ordering: config.ordering,
    hosts: config.hosts.length,
    delay,
    drop,
    incarnation: rt.node.incarnation,
    cluster: config.cluster,
    sealed: rt.trust.sealed,
  });
  const tty = process.stdin.isTTY && process.stdout.isTTY && args.plain !== true && !json;
  if (tty) return runTui(ctx);
  runPlain(ctx);
}
