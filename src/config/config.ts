import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { MembershipConfig } from "../core/membership/config.js";
import { DEFAULT_LIMITS, ORDERINGS, type Ordering, type ProtocolLimits } from "../core/types.js";
import { parseKey } from "../runtime/trust.js";

export interface HostEntry {
  host: string;
  port: number;
}

export interface Config {
  hosts: HostEntry[];
  ordering: Ordering;
  limits: ProtocolLimits;
  /** Overrides of the membership timings (defaults: defaultMembership). */
  membership: Partial<MembershipConfig>;
  /** Where term and vote are persisted (one small file per node); default: <tmpdir>/rmchat-state. */
  stateDir: string | undefined;
  /** Cluster name: frames of another cluster are dropped (counted `foreign`). */
  cluster: string;
  /** The keyring (primary first); empty: datagrams are not sealed. */
  keys: Uint8Array[];
  /** Where the keys came from when given as "keyFile" (re-read when it changes). */
  keyFile: string | undefined;
  /** Where the config was read from (for messages). */
  path: string;
}

export const DEFAULT_CLUSTER = "rmchat";

/** Bounds for the keys of "membership": [min, max]. */
const MEMBERSHIP_BOUNDS: Record<keyof MembershipConfig, [number, number]> = {
  heartbeatMs: [5, 60_000],
  probeAfterMs: [10, 600_000],
  suspectAfterMs: [10, 600_000],
  deadAfterMs: [10, 600_000],
  indirectProbes: [0, 16],
  deadProbeMs: [10, 600_000],
  electionTimeoutMs: [10, 600_000],
  leaseMs: [5, 600_000],
  quorum: [1, 1024],
  releaseAfterMs: [0, 86_400_000],
};

/** A user-facing configuration error: printed as one line, exit code 2. */
export class ConfigError extends Error {}

/** Bounds for the numeric keys: [min, max]. */
const LIMIT_BOUNDS: Record<keyof ProtocolLimits, [number, number]> = {
  maxDatagram: [512, 65507],
  maxMessageBytes: [1, 16 * 1024 * 1024],
  window: [1, 1_000_000],
  maxBacklog: [1, 100_000_000],
  rtoInitialMs: [1, 600_000],
  rtoMinMs: [1, 600_000],
  rtoMaxMs: [1, 3_600_000],
};

const KNOWN_KEYS = new Set([
  "hosts",
  "ordering",
  "membership",
  "stateDir",
  "cluster",
  "keys",
  "keyFile",
  ...Object.keys(LIMIT_BOUNDS),
]);

/** The project's own config/default.json, whatever the working directory. */
export function packageDefaultConfig(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return resolve(here, "..", "..", "config", "default.json");
}

/** Which file to read: --config, then $RMCHAT_CONFIG, then ./config/default.json, then the package's. */
export function resolveConfigPath(flag: string | undefined, env = process.env): string {
  if (flag) return flag;
  if (env.RMCHAT_CONFIG) return env.RMCHAT_CONFIG;
  const local = resolve("config", "default.json");
  return existsSync(local) ? local : packageDefaultConfig();
}

export function loadConfig(path: string): Config {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError(
      code === "ENOENT"
        ? `config file not found: ${path}`
        : `cannot read config ${path}: ${code ?? String(e)}`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`config ${path} is not valid JSON: ${(e as Error).message}`);
  }
  return parseConfig(raw, path);
}

export function parseConfig(raw: unknown, path = "<config>"): Config {
  const bad = (msg: string): never => {
    throw new ConfigError(`config ${path}: ${msg}`);
  };
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) bad("must be a JSON object");
  const obj = raw as Record<string, unknown>;
  for (const k of Object.keys(obj)) if (!KNOWN_KEYS.has(k)) bad(`unknown key "${k}"`);
  const hostsRaw = obj.hosts;
  if (!Array.isArray(hostsRaw) || hostsRaw.length === 0) bad(`"hosts" must be a non-empty array`);
  const hostList = hostsRaw as unknown[];
  if (hostList.length > 1024) bad(`"hosts" has ${hostList.length} entries (at most 1024)`);
  const seen = new Set<string>();
  const hosts: HostEntry[] = hostList.map((h, i) => {
    if (typeof h !== "object" || h === null) bad(`hosts[${i}] must be an object {"host", "port"}`);
    const { host, port } = h as Record<string, unknown>;
    if (typeof host !== "string" || host.length === 0)
      bad(`hosts[${i}].host must be a non-empty string`);
    if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535) {
      bad(`hosts[${i}].port must be an integer in 1..65535`);
    }
    const k = `${host}:${port}`;
    if (seen.has(k)) bad(`hosts[${i}] repeats ${k}`);
    seen.add(k);
    return { host: host as string, port: port as number };
  });
  const ordering = obj.ordering ?? "causal";
  if (typeof ordering !== "string" || !ORDERINGS.includes(ordering as Ordering)) {
    bad(`"ordering" must be one of ${ORDERINGS.join(", ")}`);
  }
  const limits: ProtocolLimits = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(LIMIT_BOUNDS) as Array<keyof ProtocolLimits>) {
    const v = obj[key];
    if (v === undefined) continue;
    const [lo, hi] = LIMIT_BOUNDS[key];
    if (typeof v !== "number" || !Number.isInteger(v) || v < lo || v > hi) {
      bad(`"${key}" must be an integer in ${lo}..${hi}`);
    }
    limits[key] = v as number;
  }
  if (limits.rtoMinMs > limits.rtoMaxMs) bad(`"rtoMinMs" must not exceed "rtoMaxMs"`);
  const membership: Partial<MembershipConfig> = {};
  if (obj.membership !== undefined) {
    const m = obj.membership;
    if (typeof m !== "object" || m === null || Array.isArray(m))
      bad(`"membership" must be an object`);
    for (const [k, v] of Object.entries(m as Record<string, unknown>)) {
      const bounds = MEMBERSHIP_BOUNDS[k as keyof MembershipConfig];
      if (!bounds) bad(`unknown key "membership.${k}"`);
      const [lo, hi] = bounds as [number, number];
      if (typeof v !== "number" || !Number.isInteger(v) || v < lo || v > hi) {
        bad(`"membership.${k}" must be an integer in ${lo}..${hi}`);
      }
      membership[k as keyof MembershipConfig] = v as number;
    }
    if (membership.quorum !== undefined && membership.quorum > hosts.length) {
      bad(`"membership.quorum" cannot exceed the number of hosts (${hosts.length})`);
    }
  }
  const stateDir = obj.stateDir;
  if (stateDir !== undefined && (typeof stateDir !== "string" || stateDir.length === 0)) {
    bad(`"stateDir" must be a non-empty string`);
  }
  const cluster = obj.cluster ?? DEFAULT_CLUSTER;
  if (
    typeof cluster !== "string" ||
    cluster.length === 0 ||
    cluster.length > 64 ||
    !/^[\x21-\x7e]+$/.test(cluster)
  )
    bad(`"cluster" must be 1 to 64 printable ASCII characters without spaces`);
  if (obj.keys !== undefined && obj.keyFile !== undefined)
    bad(`give either "keys" or "keyFile", not both`);
  let keys: Uint8Array[] = [];
  if (obj.keys !== undefined) {
    if (!Array.isArray(obj.keys) || obj.keys.length === 0)
      bad(`"keys" must be a non-empty array of base64 keys (rmchat keygen makes one)`);
    keys = (obj.keys as unknown[]).map((k, i) => {
      const key = typeof k === "string" ? parseKey(k) : "is not a string";
      if (typeof key === "string") bad(`keys[${i}] ${key} (a key is 32 bytes in base64)`);
      return key as Uint8Array;
    });
  }
  let keyFile: string | undefined;
  if (obj.keyFile !== undefined) {
    if (typeof obj.keyFile !== "string" || obj.keyFile.length === 0)
      bad(`"keyFile" must be a non-empty string`);
    const kf = obj.keyFile as string;
    keyFile = isAbsolute(kf) || path === "<config>" ? kf : resolve(dirname(path), kf);
    keys = loadKeyFile(keyFile);
  }
  return {
    hosts,
    ordering: ordering as Ordering,
    limits,
    membership,
    stateDir: stateDir as string | undefined,
    cluster: cluster as string,
    keys,
    keyFile,
    path,
  };
}

/**
 * Read a key file: one base64 key a line (primary first; blank lines and `#` comments
 * skipped). It must not be readable by group or others.
 */
export function loadKeyFile(path: string): Uint8Array[] {
  let text: string;
  let mode: number;
  try {
    mode = statSync(path).mode;
    text = readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError(
      code === "ENOENT"
        ? `key file not found: ${path}`
        : `cannot read key file ${path}: ${code ?? String(e)}`,
    );
  }
  if ((mode & 0o077) !== 0) {
    throw new ConfigError(
      `key file ${path} is readable or writable by group or others (mode ${(mode & 0o777).toString(8)}); run chmod 600 ${path}`,
    );
  }
  const keys: Uint8Array[] = [];
  text.split("\n").forEach((line, i) => {
    const t = line.trim();
    if (t === "" || t.startsWith("#")) return;
    const key = parseKey(t);
    if (typeof key === "string")
      throw new ConfigError(`key file ${path}, line ${i + 1}: the key ${key} (32 bytes in base64)`);
    keys.push(key);
  });
  if (keys.length === 0) throw new ConfigError(`key file ${path} holds no key`);
  return keys;
}
