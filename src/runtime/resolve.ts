import { lookup } from "node:dns/promises";
import { isIP } from "node:net";

/** A host entry resolved to the address its node binds and the others send to. */
export interface Endpoint {
  address: string;
  port: number;
}

/** A host list that cannot work: unresolvable name, two entries for one endpoint, mixed families. */
export class HostsError extends Error {}

/** The textual form the kernel reports for an address (`::1` for `0:0:0:0:0:0:0:1`). */
function canonical(address: string): string {
  return isIP(address) === 6 ? new URL(`http://[${address}]/`).hostname.slice(1, -1) : address;
}

/** An address literal as is; a name to its IPv4 address if it has one, else its IPv6 address. */
async function resolveOne(host: string): Promise<{ address: string; family: 4 | 6 } | undefined> {
  const literal = isIP(host);
  if (literal === 4 || literal === 6) return { address: canonical(host), family: literal };
  for (const family of [4, 6] as const) {
    try {
      const r = await lookup(host, { family });
      return { address: canonical(r.address), family };
    } catch {
      // try the other family
    }
  }
  return undefined;
}

/**
 * Resolve every host once, at start-up. All entries must be of one address family (one socket
 * sends to all of them), and no two may name the same endpoint once names are resolved
 * (`localhost:P` beside `127.0.0.1:P`).
 */
export async function resolveHosts(
  hosts: ReadonlyArray<{ host: string; port: number }>,
): Promise<{ endpoints: Endpoint[]; family: 4 | 6 }> {
  const endpoints: Endpoint[] = [];
  const seen = new Map<string, number>();
  let family: 4 | 6 | undefined;
  for (const [i, h] of hosts.entries()) {
    const r = await resolveOne(h.host);
    if (!r) throw new HostsError(`hosts[${i}].host: cannot resolve "${h.host}" to an address`);
    if (family === undefined) family = r.family;
    else if (r.family !== family) {
      throw new HostsError(
        `hosts[${i}].host: "${h.host}" is IPv${r.family} but hosts[0] is IPv${family}: use one address family for all hosts`,
      );
    }
    const key = `${r.address}:${h.port}`;
    const first = seen.get(key);
    if (first !== undefined) {
      const f = hosts[first] as { host: string; port: number };
      throw new HostsError(
        `hosts[${i}] (${h.host}:${h.port}) is the same endpoint as hosts[${first}] (${f.host}:${f.port}) once names are resolved`,
      );
    }
    seen.set(key, i);
    endpoints.push({ address: r.address, port: h.port });
  }
  return { endpoints, family: family ?? 4 };
}

/** `HOST:PORT`, `[v6]:PORT`, or `PORT` alone (then `defaultHost`); undefined when malformed. */
export function parseHostPort(
  s: string,
  defaultHost: string,
): { host: string; port: number } | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(s) ?? /^()()(\d{1,5})$/.exec(s);
  if (!m) return undefined;
  const host = m[1] || m[2] || defaultHost;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  return { host, port };
}

/** `127.0.0.1:16400`, `[::1]:16400`. */
export function formatHostPort(address: string, port: number): string {
  return isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}
