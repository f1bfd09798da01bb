import { createInterface } from "node:readline";
import type { Argv } from "yargs";
import { writeHostsFile } from "../agent/hosts-file.js";
import { type CommandEvent, LeaderCommand } from "../agent/leader-command.js";
import { type Epoch, hostTable, type TableEntry, validName } from "../agent/table.js";
import { jsonEvent, sanitize } from "../chat/sanitize.js";
import { loadConfig, resolveConfigPath } from "../config/config.js";
import type { NodeEvent } from "../core/node.js";
import { Logger, type LogLevel } from "../log.js";
import type { MetricFamily } from "../runtime/metrics.js";
import { commonOptions } from "./chat-command.js";
import { UsageError } from "./errors.js";
import { metricsOption, parseMetricsAddress, startNode } from "./node-start.js";

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
      describe: "seconds between SIGTERM and SIGKILL of the command",
    })
    .option("json", {
      type: "boolean",
      default: false,
      describe: "one JSON event per line on stdout",
    });
}

/**
 * `rmchat agent`: a chat node (stdin lines are multicast) that keeps the host table
 * NAME-0 … NAME-n of the installed view, optionally in a hosts file, and runs a command on
 * the leader only.
 */
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
  const json = args.json === true;
  const hostsFile = args.hostsFile as string | undefined;
  const onLeader = args.onLeader as string | undefined;
  const metrics = parseMetricsAddress(args.metrics);
  const logger = new Logger(args.logLevel as LogLevel, { node: id, agent: name });
  let epoch: Epoch = { term: 0, version: 0 };
  let table: TableEntry[] = [];
  let commandExits = 0;
  const agentMetrics = (): MetricFamily[] => [
    {
      name: "rmchat_agent_table_entries",
      help: "Entries of the host table (members of the installed view).",
      type: "gauge",
      samples: [{ labels: { name }, value: table.length }],
    },
    {
      name: "rmchat_leader_command_running",
      help: "1 while the leader-only command runs on this node.",
      type: "gauge",
      samples: [{ value: cmd?.running ? 1 : 0 }],
    },
    {
      name: "rmchat_leader_command_exits_total",
      help: "Times the leader-only command exited on its own while this node led.",
      type: "counter",
      samples: [{ value: commandExits }],
    },
  ];
  const node = await startNode({
    id,
    config,
    faults: { delay: 0, drop: 0 },
    logger,
    metrics,
    extraMetrics: agentMetrics,
  });
  const rt = node.rt;
  const out = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };
  rt.statusExtra = () => ({ name, epoch, table, command: cmd?.running ?? false });

  const cmd = onLeader
    ? new LeaderCommand(
        onLeader,
        id,
        (e: CommandEvent) => {
          if (json) out(jsonEvent("command", { ...e }));
          else if (e.state === "started") out(`command started (pid ${e.pid}, term ${e.term})`);
          else if (e.state === "stopped") out(`command stopped (${e.reason})`);
          else
            out(
              `command exited (code ${e.code}, signal ${e.signal})${e.restartInMs ? `, restart in ${e.restartInMs} ms` : ""}`,
            );
          if (e.state === "exited") {
            commandExits++;
            logger.warn("leader command exited", { code: e.code, signal: e.signal });
          }
        },
        grace * 1000,
      )
    : undefined;

  const onEvent = (ev: NodeEvent): void => {
    switch (ev.type) {
      case "view": {
        epoch = { term: ev.term, version: ev.version };
        table = hostTable(name, ev.members, config.hosts);
        // The file first: a table event announces what is already on disk.
        if (hostsFile) {
          try {
            writeHostsFile(hostsFile, name, epoch, table);
          } catch (e) {
            logger.error("cannot write the hosts file", { path: hostsFile, error: String(e) });
          }
        }
        if (json) out(jsonEvent("table", { epoch, table }));
        else {
          const list = table.map((e) => `${e.name}=${e.host} (node ${e.id})`).join(", ");
          out(`table ${epoch.term}.${epoch.version}: ${list}`);
        }
        return;
      }
      case "leader":
        if (json) out(jsonEvent("leader", { term: ev.term, leader: ev.leader }));
        else out(ev.leader === null ? "no leader" : `leader: node ${ev.leader} (term ${ev.term})`);
        return;
      case "lease":
        if (ev.held) cmd?.lead(ev.term);
        else cmd?.stop("lost leadership or lease");
        return;
      case "deliver":
        if (json) out(jsonEvent("deliver", { from: ev.from, seq: ev.seq, text: ev.text }));
        else out(`${ev.from} says: ${sanitize(ev.text)}`);
        return;
      case "notice":
        logger.log(ev.level, ev.msg);
        return;
      default:
        return;
    }
  };
  rt.onEvent(onEvent);

  let stopping = false;
  const shutdown = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    cmd?.stop("agent exits");
    await node.close();
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown());
  process.on("SIGTERM", () => void shutdown());
  process.on("exit", () => cmd?.killNow());
  process.stdout.on("error", () => void shutdown());
  const rl = createInterface({ input: process.stdin, terminal: false });
  rl.on("line", (line) => {
    if (line.length === 0) return;
    const r = rt.send(line);
    if (!r.ok) process.stderr.write(`rmchat: ${r.error}\n`);
  });
}
