import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { defaultMembership, type MembershipConfig } from "../core/membership/config.js";
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
  /** Where term and vote are persisted (one small file per node); default: defaultStateDir(). */
  stateDir: string | undefined;
  /** Cluster name: frames of another cluster are dropped (counted `foreign`). */
  cluster: string;
  /** The keyring (primary first); empty: datagrams are not sealed. */
  keys: Uint8Array[];
  /** Where the keys came from when given as "keyFile" (re-read when it changes). */
  keyFile: string | undefined;
  /** State transfer: recent messages a new member receives (0: none). */
  historyMessages: number;
  /** Where the config was read from (for messages). */
  path: string;
}

export const DEFAULT_CLUSTER = "rmchat";

/** Bounds for the keys of "membership": [min, max]. */
export const MEMBERSHIP_BOUNDS: Record<keyof MembershipConfig, [number, number]> = {
  heartbeatMs: [5, 60_000],
  probeAfterMs: [10, 600_000],
  suspectAfterMs: [10, 600_000],
  deadAfterMs: [10, 600_000],
  indirectProbes: [0, 16],
  deadProbeMs: [10, 600_000],
  electionTimeoutMs: [10, 600_000],
  leaseMs: [5, 600_000],
  quorum: [1, 1024],
  maxOwnLagMs: [0, 600_000],
};

/** State transfer: bounds of `historyMessages`. */
export const HISTORY_BOUNDS: [number, number] = [0, 1_000_000];
export const DEFAULT_HISTORY_MESSAGES = 1000;

/** A user-facing configuration error: printed as one line, exit code 2. */
export class ConfigError extends Error {}

/** Bounds for the numeric keys: [min, max]. */
export const LIMIT_BOUNDS: Record<keyof ProtocolLimits, [number, number]> = {
  maxDatagram: [512, 65507],
  maxMessageBytes: [1, 16 * 1024 * 1024],
  window: [1, 1_000_000],
  maxBacklog: [1, 100_000_000],
  rtoInitialMs: [1, 600_000],
  rtoMinMs: [1, 600_000],
  rtoMaxMs: [1, 3_600_000],
};

/** Every top-level key ("$schema" lets an editor find config/rmchat.schema.json; it is ignored). */
export const TOP_KEYS: readonly string[] = [
  "$schema",
  "hosts",
  "ordering",
  "membership",
  "stateDir",
  "historyMessages",
  "cluster",
  "keys",
  "keyFile",
  ...Object.keys(LIMIT_BOUNDS),
];
const HOST_KEYS: readonly string[] = ["host", "port"];

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

/** `hosts[2].port`, `membership.leaseMs`, `["odd key"]`: where in the file a value is. */
function keyPath(parent: string, key: string): string {
  const k = /^[A-Za-z_$][\w$]*$/.test(key) ? key : `[${JSON.stringify(key)}]`;
  if (parent === "") return k;
  return k.startsWith("[") ? `${parent}${k}` : `${parent}.${k}`;
}

/** Own enumerable properties only: "__proto__", "toString" and friends are plain unknown keys. */
function own(obj: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function checkInteger(
  bad: (msg: string) => never,
  where: string,
  v: unknown,
  [lo, hi]: [number, number],
): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < lo || v > hi)
    bad(`${where}: must be an integer in ${lo}..${hi}`);
  return v as number;
}

export function parseConfig(raw: unknown, path = "<config>"): Config {
  const bad = (msg: string): never => {
    throw new ConfigError(`config ${path}: ${msg}`);
  };
  if (!isObject(raw)) return bad("must be a JSON object");
  const unknownKeys = (obj: Record<string, unknown>, parent: string, known: readonly string[]) => {
    for (const k of Object.keys(obj))
      if (!known.includes(k)) bad(`${keyPath(parent, k)}: unknown key`);
  };
  unknownKeys(raw, "", TOP_KEYS);
  const schemaRef = own(raw, "$schema");
  if (schemaRef !== undefined && typeof schemaRef !== "string") bad("$schema: must be a string");
  const hostList = own(raw, "hosts");
  if (!Array.isArray(hostList) || hostList.length === 0)
    return bad("hosts: must be a non-empty array");
  if (hostList.length > 1024) bad(`hosts: has ${hostList.length} entries (at most 1024)`);
  const seen = new Map<string, number>();
  const hosts: HostEntry[] = hostList.map((h: unknown, i) => {
    const where = `hosts[${i}]`;
    if (!isObject(h)) return bad(`${where}: must be an object {"host", "port"}`);
    unknownKeys(h, where, HOST_KEYS);
    const host = own(h, "host");
    const port = own(h, "port");
    if (typeof host !== "string" || host.trim().length === 0 || host.length > 253)
      return bad(`${where}.host: must be a non-empty string (an address or a name)`);
    if (host.startsWith("["))
      bad(`${where}.host: write an IPv6 address without brackets ("::1", not "[::1]")`);
    const p = checkInteger(bad, `${where}.port`, port, [1, 65535]);
    const k = `${host}:${p}`;
    const first = seen.get(k);
    if (first !== undefined) bad(`${where}: repeats ${k} (hosts[${first}])`);
    seen.set(k, i);
    return { host, port: p };
  });
  const ordering = own(raw, "ordering") ?? "causal";
  if (typeof ordering !== "string" || !ORDERINGS.includes(ordering as Ordering)) {
    bad(`ordering: must be one of ${ORDERINGS.join(", ")}`);
  }
  const limits: ProtocolLimits = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(LIMIT_BOUNDS) as Array<keyof ProtocolLimits>) {
    const v = own(raw, key);
    if (v !== undefined) limits[key] = checkInteger(bad, key, v, LIMIT_BOUNDS[key]);
  }
  const membership: Partial<MembershipConfig> = {};
  const m = own(raw, "membership");
  if (m !== undefined) {
    if (!isObject(m)) return bad("membership: must be an object");
    unknownKeys(m, "membership", Object.keys(MEMBERSHIP_BOUNDS));
    for (const k of Object.keys(m) as Array<keyof MembershipConfig>) {
      membership[k] = checkInteger(bad, `membership.${k}`, m[k], MEMBERSHIP_BOUNDS[k]);
    }
  }
  const rule = checkRules(limits, membership, hosts.length);
  if (rule) bad(rule);
  const stateDir = own(raw, "stateDir");
  if (stateDir !== undefined && (typeof stateDir !== "string" || stateDir.length === 0)) {
    bad("stateDir: must be a non-empty string (a directory path)");
  }
  const hm = own(raw, "historyMessages");
  const historyMessages =
    hm === undefined
      ? DEFAULT_HISTORY_MESSAGES
      : checkInteger(bad, "historyMessages", hm, HISTORY_BOUNDS);
  const cluster = own(raw, "cluster") ?? DEFAULT_CLUSTER;
  if (
    typeof cluster !== "string" ||
    cluster.length === 0 ||
    cluster.length > 64 ||
    !/^[\x21-\x7e]+$/.test(cluster)
  )
    bad("cluster: must be 1 to 64 printable ASCII characters without spaces");
  const keyList = own(raw, "keys");
  const keyFileRaw = own(raw, "keyFile");
  if (keyList !== undefined && keyFileRaw !== undefined)
    bad(`keys, keyFile: give either "keys" or "keyFile", not both`);
  let keys: Uint8Array[] = [];
  if (keyList !== undefined) {
    if (!Array.isArray(keyList) || keyList.length === 0)
      bad("keys: must be a non-empty array of base64 keys (rmchat keygen makes one)");
    keys = (keyList as unknown[]).map((k, i) => {
      const key = typeof k === "string" ? parseKey(k) : "is not a string";
      if (typeof key === "string") bad(`keys[${i}]: the key ${key} (a key is 32 bytes in base64)`);
      return key as Uint8Array;
    });
  }
  let keyFile: string | undefined;
  if (keyFileRaw !== undefined) {
    if (typeof keyFileRaw !== "string" || keyFileRaw.length === 0)
      bad("keyFile: must be a non-empty string (a file path)");
    const kf = keyFileRaw as string;
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
    historyMessages,
    path,
  };
}

/**
 * The rules between keys that the README states, each with its reason: the first one broken,
 * as one line, or undefined. Defaults count: a `leaseMs` of 600 alone breaks the lease rule.
 */
export function checkRules(
  limits: ProtocolLimits,
  given: Partial<MembershipConfig>,
  hostCount: number,
): string | undefined {
  const m = { ...defaultMembership(hostCount), ...given };
  const show = (k: keyof MembershipConfig): string =>
    `membership.${k} (${m[k]}${given[k] === undefined ? ", the default" : ""})`;
  const below = (a: keyof MembershipConfig, b: keyof MembershipConfig, why: string) =>
    m[a] < m[b] ? undefined : `${show(a)} must be below ${show(b)}: ${why}`;
  const lim = (k: keyof ProtocolLimits): string => `${k} (${limits[k]})`;
  return (
    below(
      "leaseMs",
      "electionTimeoutMs",
      "a new leader is elected only after the old lease has lapsed, so the leader-only command never runs twice",
    ) ??
    below("heartbeatMs", "leaseMs", "the leader renews its lease with each heartbeat round") ??
    below("heartbeatMs", "suspectAfterMs", "a live peer is heard from every heartbeat") ??
    below("probeAfterMs", "suspectAfterMs", "a silent peer is probed before it is suspected") ??
    below("suspectAfterMs", "deadAfterMs", "a peer is suspected before it is declared dead") ??
    (m.quorum > hostCount
      ? `${show("quorum")} cannot exceed the number of hosts (${hostCount}): no leader could ever be elected`
      : undefined) ??
    (limits.rtoMinMs > limits.rtoMaxMs
      ? `${lim("rtoMinMs")} must not exceed ${lim("rtoMaxMs")}: the timeout is kept between them`
      : undefined) ??
    (limits.rtoInitialMs < limits.rtoMinMs || limits.rtoInitialMs > limits.rtoMaxMs
      ? `${lim("rtoInitialMs")} must lie between rtoMinMs (${limits.rtoMinMs}) and rtoMaxMs (${limits.rtoMaxMs})`
      : undefined) ??
    (limits.window > limits.maxBacklog
      ? `${lim("window")} must not exceed ${lim("maxBacklog")}: the backlog holds the fragments in flight and those waiting`
      : undefined)
  );
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
