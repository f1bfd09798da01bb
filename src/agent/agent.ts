import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { jsonEvent, sanitize } from "../chat/sanitize.js";
import { startNode } from "../cli/node-start.js";
import type { Config } from "../config/config.js";
import type { NodeEvent } from "../core/node.js";
import type { NodeId } from "../core/types.js";
import type { Logger } from "../log.js";
import type { MetricFamily } from "../runtime/metrics.js";
import { writeHostsFile } from "./hosts-file.js";
import { type CommandEvent, LeaderCommand } from "./leader-command.js";
import { type Epoch, hostTable, type TableEntry } from "./table.js";
import { monoMs } from "./watchdog.js";

/** Everything `rmchat agent` needs, parsed and validated by the command line. */
export interface AgentOptions {
  id: NodeId;
  name: string;
  config: Config;
  hostsFile: string | undefined;
  onLeader: string | undefined;
  graceMs: number;
  json: boolean;
  /** `--metrics`: serve /metrics (node + agent families) and /health there. */
  metrics: { host: string; port: number } | undefined;
  logger: Logger;
  /** `--trace FILE`: append trace records for `rmchat trace`. */
  trace?: string | undefined;
}

/**
 * The cluster agent: a chat node (stdin lines are multicast) that keeps the host table
 * NAME-0 … NAME-n of the installed view, optionally in a hosts file, and runs a command on the
 * leader only, through a watchdog. The safety wiring: lease → command, view → table → hosts
 * file, and on SIGTERM/SIGINT: command stopped, leadership handed over, exit 0.
 */
export async function runAgentService(o: AgentOptions): Promise<void> {
  const { config, logger, name, json } = o;
  let epoch: Epoch = { term: 0, version: 0 };
  let table: TableEntry[] = [];
  let commandExits = 0;
  // Read at scrape time; `cmd` is assigned below, before any scrape can happen.
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
    id: o.id,
    config,
    faults: { delay: 0, drop: 0 },
    logger,
    metrics: o.metrics,
    extraMetrics: agentMetrics,
    trace: o.trace,
  });
  const rt = node.rt;
  const out = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };
  let leader: NodeId | null = null;
  let stopping = false;
  const leaderWaiters = new Set<() => void>();

  /** Our lease deadline on the monotonic clock, read from the node at this instant. */
  const leaseDeadline = (): number => {
    const st = rt.node.status();
    // Also while stopping: the lease still holds until the handover, and with it the grace.
    if (st.role !== "leader") return Number.NEGATIVE_INFINITY;
    return monoMs() + (st.leaseUntil - performance.now());
  };

  const cmd = o.onLeader
    ? new LeaderCommand({
        cmd: o.onLeader,
        nodeId: o.id,
        onEvent: (e) => {
          if (e.state === "exited") commandExits++;
          commandEvent(e, json, out, logger);
        },
        leaseDeadline,
        graceMs: o.graceMs,
      })
    : undefined;
  rt.statusExtra = () => ({ name, epoch, table, command: cmd?.running ?? false });

  const onEvent = (ev: NodeEvent): void => {
    switch (ev.type) {
      case "view": {
        epoch = { term: ev.term, version: ev.version };
        table = hostTable(name, ev.members, config.hosts);
        // The file first: a table event announces what is already on disk.
        if (o.hostsFile) {
          try {
            writeHostsFile(o.hostsFile, name, epoch, table);
          } catch (e) {
            logger.error("cannot write the hosts file", { path: o.hostsFile, error: String(e) });
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
        leader = ev.leader;
        for (const w of leaderWaiters) w();
        if (json) out(jsonEvent("leader", { term: ev.term, leader: ev.leader }));
        else out(ev.leader === null ? "no leader" : `leader: node ${ev.leader} (term ${ev.term})`);
        return;
      case "lease":
        if (ev.held && !stopping) cmd?.lead(ev.term);
        else if (!ev.held) cmd?.stop("lost leadership or lease");
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

  /** Resolves when a leader other than us is known, or after `ms`. */
  const otherLeader = (ms: number): Promise<boolean> =>
    new Promise((ok) => {
      const check = (): void => {
        if (leader === null || leader === o.id) return;
        done(true);
      };
      const done = (v: boolean): void => {
        clearTimeout(t);
        leaderWaiters.delete(check);
        ok(v);
      };
      const t = setTimeout(() => done(false), ms);
      leaderWaiters.add(check);
      check();
    });

  /**
   * SIGTERM/SIGINT: never two commands. While we still lead (and renew the lease, so no one
   * else can be elected), stop the command and wait until its whole process group is gone;
   * then hand leadership to a live member, which starts its election at once; then exit 0.
   */
  const shutdown = async (why: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info("agent stopping", { reason: why });
    if (json) out(jsonEvent("stopping", { reason: why }));
    await cmd?.close("agent exits");
    const before = rt.node.status();
    const to = rt.transferLeadership();
    if (to === undefined && before.role === "leader")
      logger.warn("no live member to hand leadership to", { view: before.view.members });

    if (to !== undefined) {
      if (json) out(jsonEvent("handover", { to }));
      else out(`handing leadership to node ${to}`);
      // Stay a moment to vote for the successor; a lost request costs one election timeout.
      await otherLeader(2 * rt.node.membership.electionTimeoutMs);
    }
    await node.close();
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("exit", () => cmd?.killNow());
  process.stdout.on("error", () => void shutdown("stdout closed"));
  const rl = createInterface({ input: process.stdin, terminal: false });
  rl.on("line", (line) => {
    if (line.length === 0 || stopping) return;
    const r = rt.send(line);
    if (!r.ok) process.stderr.write(`rmchat: ${r.error}\n`);
  });
}

function commandEvent(
  e: CommandEvent,
  json: boolean,
  out: (line: string) => void,
  logger: Logger,
): void {
  if (json) out(jsonEvent("command", { ...e }));
  else if (e.state === "started") out(`command started (pid ${e.pid}, term ${e.term})`);
  else if (e.state === "stopped") out(`command stopped (${e.reason})`);
  else if (e.state === "watchdog") out(`watchdog: ${e.reason}, ${e.signal} to the command`);
  else if (e.state === "refused") out(`command not started: ${e.reason}`);
  else
    out(
      `command exited (code ${e.code}, signal ${e.signal})${e.restartInMs ? `, restart in ${e.restartInMs} ms` : ""}`,
    );
  if (e.state === "exited")
    logger.warn("leader command exited", { code: e.code, signal: e.signal });
  if (e.state === "watchdog") logger.warn("watchdog stopped the command", { reason: e.reason });
}
