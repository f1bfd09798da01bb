import type { Argv } from "yargs";
import { type Config, ConfigError } from "../config/config.js";
import type { Logger } from "../log.js";
import type { FaultSettings } from "../runtime/faults.js";
import { health, type MetricFamily, nodeMetrics, renderMetrics } from "../runtime/metrics.js";
import { type MetricsServer, serveMetrics } from "../runtime/metrics-server.js";
import { formatHostPort, HostsError, parseHostPort } from "../runtime/resolve.js";
import { UdpRuntime } from "../runtime/udp.js";
import { UsageError } from "./errors.js";
import { packageVersion } from "./version.js";

/** `--metrics` for the commands that run a node (chat and agent). */
export function metricsOption<T>(y: Argv<T>) {
  return y.option("metrics", {
    type: "string",
    describe:
      "serve Prometheus metrics at http://HOST:PORT/metrics and a health check at /health (PORT alone: 127.0.0.1)",
  });
}

/** `--metrics` value: HOST:PORT, [V6]:PORT or PORT (loopback). */
export function parseMetricsAddress(raw: unknown): { host: string; port: number } | undefined {
  if (raw === undefined) return undefined;
  const a = parseHostPort(String(raw), "127.0.0.1");
  if (!a)
    throw new UsageError(`--metrics must be HOST:PORT, [IPv6]:PORT or PORT (got "${String(raw)}")`);
  return a;
}

export interface StartedNode {
  rt: UdpRuntime;
  metrics: MetricsServer | undefined;
  close(): Promise<void>;
}

/** A node's settings from the config (chat and agent take them from here alone). */
export function fromConfig(config: Config) {
  return {
    hosts: config.hosts,
    ordering: config.ordering,
    limits: config.limits,
    membership: config.membership,
    stateDir: config.stateDir,
    historyMessages: config.historyMessages,
    cluster: config.cluster,
    keys: config.keys,
    keyFile: config.keyFile,
  };
}

/**
 * Start the runtime for node `id` of `config` (host problems found while resolving are config
 * errors: one line, exit 2) and, when asked, the metrics server beside it.
 */
export async function startNode(opts: {
  id: number;
  config: Config;
  faults: FaultSettings;
  logger: Logger;
  metrics: { host: string; port: number } | undefined;
  /** More metric families (the agent's table and leader command). */
  extraMetrics?: () => MetricFamily[];
}): Promise<StartedNode> {
  const { id, config, logger } = opts;
  let rt: UdpRuntime;
  try {
    rt = await UdpRuntime.start({ id, faults: opts.faults, logger, ...fromConfig(config) });
  } catch (e) {
    if (e instanceof HostsError) throw new ConfigError(`config ${config.path}: ${e.message}`);
    throw e;
  }
  let metrics: MetricsServer | undefined;
  if (opts.metrics) {
    const source = {
      id,
      ordering: config.ordering,
      // Read at scrape time: a node that rejoins as a new member takes a new incarnation.
      get incarnation() {
        return rt.node.incarnation;
      },
      stats: () => rt.stats(),
      status: () => rt.node.status(),
      get sendErrors() {
        return rt.sendErrors;
      },
    };
    const version = packageVersion();
    try {
      metrics = await serveMetrics(
        opts.metrics.host,
        opts.metrics.port,
        {
          metrics: () =>
            renderMetrics([...nodeMetrics(source, version), ...(opts.extraMetrics?.() ?? [])]),
          health: () => health(source),
        },
        logger,
      );
    } catch (e) {
      await rt.close();
      throw e;
    }
    logger.info("serving metrics", {
      metrics: `http://${formatHostPort(metrics.address, metrics.port)}/metrics`,
      health: `http://${formatHostPort(metrics.address, metrics.port)}/health`,
    });
  }
  return {
    rt,
    metrics,
    close: async () => {
      await metrics?.close();
      await rt.close();
    },
  };
}
