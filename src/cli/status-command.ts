import { createSocket, type Socket } from "node:dgram";
import type { Argv } from "yargs";
import { type Config, ConfigError, loadConfig, resolveConfigPath } from "../config/config.js";
import {
  type Endpoint,
  formatHostPort,
  HostsError,
  parseHostPort,
  resolveHosts,
} from "../runtime/resolve.js";
import { type StatusAnswer, statusClient } from "../status/protocol.js";
import { UsageError } from "./errors.js";

export function statusBuilder(y: Argv) {
  return y
    .option("config", {
      type: "string",
      describe: "config file (default: $RMCHAT_CONFIG, else config/default.json)",
    })
    .option("addr", {
      type: "string",
      array: true,
      describe:
        "ask this HOST:PORT (repeatable) instead of the config's hosts; no config needed unless the nodes seal (then --config or $RMCHAT_CONFIG gives cluster and keys)",
    })
    .option("timeout", { type: "number", default: 1, describe: "seconds to wait for answers" })
    .option("json", {
      type: "boolean",
      default: false,
      describe: "print one JSON array, an entry per address asked",
    });
}

type Answer = StatusAnswer;

interface Target {
  /** The config's index (config mode) or undefined (--addr). */
  index: number | undefined;
  /** As the user wrote it: `127.0.0.1:16400`, `db1:16400`. */
  label: string;
  endpoint: Endpoint;
  family: 4 | 6;
}

async function targetsFromAddrs(addrs: string[]): Promise<Target[]> {
  const out: Target[] = [];
  for (const a of addrs) {
    const hp = parseHostPort(a, "");
    if (!hp || hp.host === "" || hp.port === 0)
      throw new UsageError(`--addr must be HOST:PORT or [IPv6]:PORT (got "${a}")`);
    try {
      const { endpoints, family } = await resolveHosts([hp]);
      out.push({ index: undefined, label: a, endpoint: endpoints[0] as Endpoint, family });
    } catch (e) {
      if (e instanceof HostsError) throw new UsageError(`--addr ${a}: cannot resolve "${hp.host}"`);
      throw e;
    }
  }
  return out;
}

async function targetsFromConfig(config: Config): Promise<Target[]> {
  try {
    const { endpoints, family } = await resolveHosts(config.hosts);
    return config.hosts.map((h, i) => ({
      index: i,
      label: formatHostPort(h.host, h.port),
      endpoint: endpoints[i] as Endpoint,
      family,
    }));
  } catch (e) {
    if (e instanceof HostsError) throw new ConfigError(`config ${config.path}: ${e.message}`);
    throw e;
  }
}

/**
 * `rmchat status`: ask every configured node (or the `--addr` ones) what it knows; print the
 * table, leader and states. Exit code 1 when nobody answered.
 */
export async function runStatus(args: Record<string, unknown>): Promise<void> {
  const timeout = Number(args.timeout);
  if (!Number.isFinite(timeout) || timeout <= 0 || timeout > 60)
    throw new UsageError("--timeout must be in (0, 60] seconds");
  const addrs = (args.addr as string[] | undefined) ?? [];
  // With --addr the config is read only when one is named (it gives the cluster and keys).
  const configFlag = args.config as string | undefined;
  const config =
    addrs.length === 0 || configFlag !== undefined || process.env.RMCHAT_CONFIG
      ? loadConfig(resolveConfigPath(configFlag))
      : undefined;
  const targets =
    addrs.length > 0 || config === undefined
      ? await targetsFromAddrs(addrs)
      : await targetsFromConfig(config);
  const byEndpoint = new Map(
    targets.map((t, i) => [`${t.endpoint.address}:${t.endpoint.port}`, i]),
  );
  const answers = new Map<number, Answer>();
  const client = statusClient({
    cluster: config?.cluster,
    keys: config?.keys,
    hostCount: config?.hosts.length,
  });
  const onMessage = (msg: Buffer, from: { address: string; port: number }): void => {
    const a = client.open(msg);
    if (!a) return;
    const i = byEndpoint.get(`${from.address}:${from.port}`);
    if (i !== undefined) answers.set(i, a);
  };
  const sockets = new Map<4 | 6, Socket>();
  for (const family of new Set(targets.map((t) => t.family))) {
    const sock = createSocket(family === 6 ? "udp6" : "udp4");
    await new Promise<void>((ok) => sock.bind(0, ok));
    sock.on("message", onMessage);
    sockets.set(family, sock);
  }
  for (const t of targets) {
    sockets.get(t.family)?.send(client.query, t.endpoint.port, t.endpoint.address);
  }
  await new Promise((r) => setTimeout(r, timeout * 1000));
  for (const s of sockets.values()) s.close();
  if (answers.size === 0) process.exitCode = 1;
  const rows = targets.map((t, i) => ({ t, a: answers.get(i) }));
  if (args.json === true) {
    const out = rows.map(({ t, a }) =>
      a
        ? { answered: true, ...a }
        : {
            answered: false,
            ...(t.index !== undefined ? { id: t.index } : {}),
            address: formatHostPort(t.endpoint.address, t.endpoint.port),
          },
    );
    process.stdout.write(`${JSON.stringify(out)}\n`);
    return;
  }
  const leaders = new Set(
    rows.map((r) => r.a?.leader).filter((l) => l !== undefined && l !== null),
  );
  const anyTable = rows.find((r) => {
    const t = r.a?.table;
    return Array.isArray(t) && t.length > 0;
  })?.a;
  process.stdout.write(
    `leader: ${leaders.size === 1 ? `node ${[...leaders][0]}` : leaders.size === 0 ? "none" : `disagreement (${[...leaders].join(", ")})`}\n`,
  );
  if (anyTable) {
    const ep = anyTable.epoch as { term: number; version: number };
    process.stdout.write(`table (epoch ${ep.term}.${ep.version}, from node ${anyTable.id}):\n`);
    for (const e of anyTable.table as Array<{ name: string; host: string; id: number }>) {
      process.stdout.write(`  ${e.host} ${e.name}  # node ${e.id}\n`);
    }
  }
  process.stdout.write("nodes:\n");
  for (const { t, a } of rows) {
    const who = `${t.index ?? a?.id ?? "?"} ${t.label}`;
    if (!a) {
      process.stdout.write(`  ${who}  no answer\n`);
      continue;
    }
    const v = a.view as { term: number; version: number; members: number[] } | undefined;
    if (!v) {
      process.stdout.write(`  ${who}  answered (truncated)\n`);
      continue;
    }
    process.stdout.write(
      `  ${who}  ${a.role} term ${a.term}  leader ${a.leader ?? "-"}  view ${v.term}.${v.version} [${v.members.join(",")}]${a.command ? "  running the leader command" : ""}\n`,
    );
  }
}
