import type { Argv } from "yargs";
import { runAgentService } from "../agent/agent.js";
import { validName } from "../agent/table.js";
import { loadConfig, resolveConfigPath } from "../config/config.js";
import { Logger, type LogLevel } from "../log.js";
import { commonOptions, traceArg } from "./chat-command.js";
import { UsageError } from "./errors.js";
import { metricsOption, parseMetricsAddress } from "./node-start.js";

export function agentBuilder(y: Argv) {
  return metricsOption(commonOptions(y))
    .positional("id", { type: "string", describe: "this node's index in the config's host list" })
    .option("name", {
      type: "string",
      demandOption: true,
      describe: "table prefix: NAME-0 is the leader",
    })
    .option("hosts-file", {
      type: "string",
      describe: "keep this file's marked block (# BEGIN rmchat NAME … # END) equal to the table",
    })
    .option("on-leader", {
      type: "string",
      describe:
        "shell command run while this node leads and holds its lease (env RMCHAT_TERM, RMCHAT_NODE_ID)",
    })
    .option("grace", {
      type: "number",
      default: 3,
      describe:
        "seconds between SIGTERM and SIGKILL of the command (cut short when the lease runs out)",
    })
    .option("json", {
      type: "boolean",
      default: false,
      describe: "one JSON event per line on stdout",
    });
}

/** `rmchat agent`: parse and validate, then hand over to the agent (src/agent/agent.ts). */
export async function runAgent(args: Record<string, unknown>): Promise<void> {
  const idRaw = String(args.id);
  if (!/^\d+$/.test(idRaw))
    throw new UsageError(`id must be a non-negative integer (got "${idRaw}")`);
  const id = Number(idRaw);
  const name = String(args.name);
  if (!validName(name))
    throw new UsageError(`--name must be a host-name label (letters, digits, "-"), got "${name}"`);
  const grace = Number(args.grace);
  if (!Number.isFinite(grace) || grace < 0)
    throw new UsageError("--grace must be a number of seconds >= 0");
  const config = loadConfig(resolveConfigPath(args.config as string | undefined));
  if (id >= config.hosts.length) {
    throw new UsageError(
      `id ${id} is not in the host list of ${config.path} (0..${config.hosts.length - 1})`,
    );
  }
  await runAgentService({
    id,
    name,
    config,
    hostsFile: args.hostsFile as string | undefined,
    onLeader: args.onLeader as string | undefined,
    graceMs: grace * 1000,
    json: args.json === true,
    metrics: parseMetricsAddress(args.metrics),
    logger: new Logger(args.logLevel as LogLevel, { node: id, agent: name }),
    trace: traceArg(args),
  });
}
