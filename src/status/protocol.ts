/**
 * The status protocol of `rmchat status`, beside the core and apart from the UDP shell. The
 * client sends a query envelope (src/runtime/trust.ts: sealed when the cluster has keys) whose
 * payload starts with STATUS_QUERY, padded; a node answers with an answer envelope holding a
 * JSON report of what it knows, never larger than the query unless it came from a host's own
 * address (so the port cannot amplify spoofed traffic). Read-only: answering never changes
 * protocol state.
 */
import { randomInt } from "node:crypto";
import { DEFAULT_CLUSTER } from "../config/config.js";
import type { RmNode } from "../core/node.js";
import { CLIENT_ID, type Opened, Trust } from "../runtime/trust.js";

export const STATUS_QUERY = Buffer.from("RMCHAT-STATUS?");

/** One node's answer; `id` is always there, the rest is what that kind of node reports. */
export type StatusAnswer = Record<string, unknown> & { id: number };

/** A query's payload: STATUS_QUERY, then any padding. */
export function isStatusQuery(payload: Uint8Array): boolean {
  return (
    payload.length >= STATUS_QUERY.length &&
    Buffer.from(payload.buffer, payload.byteOffset, STATUS_QUERY.length).equals(STATUS_QUERY)
  );
}

/**
 * What a node reports: id, address, term, role, leader, view, peers, then `shell` (what the
 * UDP shell adds: sealing, cluster, drop counts) and `extra` (the agent's table).
 */
export function statusReport(
  node: RmNode,
  address: string,
  shell: Record<string, unknown> = {},
  extra: Record<string, unknown> = {},
): StatusAnswer {
  const st = node.status();
  return {
    id: node.id,
    address,
    incarnation: node.incarnation,
    ordering: node.ordering,
    term: st.term,
    role: st.role,
    leader: st.leader ?? null,
    view: st.view,
    peers: node.stats().peers.map((p) => ({ id: p.id, health: p.health })),
    ...shell,
    ...extra,
  };
}

/** Why a node left a query unanswered (counted as statusRefused). */
export type Refusal = "not-a-host" | "too-small";

/**
 * The node's side: the answer envelope for an opened query, or why there is none (undefined:
 * not a status query at all). Without keys only host addresses are answered. The report is
 * shortened (no peers, no drop counts, then only the id) until it fits in the query's size.
 */
export function answerQuery(
  trust: Trust,
  query: Opened,
  queryBytes: number,
  /** Where the query came from: a configured host's address; that host's own address and port. */
  source: { hostAddress: boolean; host: boolean },
  report: () => StatusAnswer,
): Uint8Array | Refusal | undefined {
  if (query.kind !== "query" || !isStatusQuery(query.payload)) return undefined;
  if (!trust.sealed && !source.hostAddress) return "not-a-host";
  const full = report();
  const { peers: _peers, dropped: _dropped, ...brief } = full;
  for (const r of [full, brief, { id: full.id, truncated: true }]) {
    const answer = trust.wrap("answer", undefined, Buffer.from(JSON.stringify(r)));
    // A query from a host's own address and port is answered in full.
    if (source.host || answer.length <= queryBytes) return answer;
  }
  return "too-small";
}

/** An answer's payload as a report, or undefined when it is not one. */
export function decodeStatusAnswer(payload: Uint8Array): StatusAnswer | undefined {
  try {
    const a = JSON.parse(Buffer.from(payload).toString("utf8")) as unknown;
    if (typeof a !== "object" || a === null || typeof (a as { id?: unknown }).id !== "number")
      return undefined;
    return a as StatusAnswer;
  } catch {
    return undefined;
  }
}

/** The client's side of `rmchat status`: one padded query, and a way to open answers. */
export interface StatusClient {
  /** The datagram to send to every address asked. */
  query: Uint8Array;
  /** A report from a datagram, or undefined (not ours, not authentic, or not speaking for itself). */
  open(datagram: Uint8Array): StatusAnswer | undefined;
}

export function statusClient(o: {
  cluster?: string | undefined;
  keys?: readonly Uint8Array[] | undefined;
  /** Hosts in the config (room in the query for their answer); unknown: room for 64. */
  hostCount?: number | undefined;
}): StatusClient {
  // A random 96-bit nonce (48-bit epoch, 48-bit counter start) under the status client's own
  // subkey: a handful of queries per run, so a repeat is out of reach.
  const trust = new Trust({
    cluster: o.cluster ?? DEFAULT_CLUSTER,
    keys: o.keys ?? [],
    self: CLIENT_ID,
    epoch: randomInt(1, 2 ** 47),
    counterStart: randomInt(1, 2 ** 47),
  });
  // Nodes never answer with more bytes than the query had: pad it to room for the answer.
  const size = Math.min(60_000, 1200 + 160 * (o.hostCount ?? 64));
  const payload = Buffer.alloc(size - trust.overhead);
  STATUS_QUERY.copy(payload);
  return {
    query: trust.wrap("query", undefined, payload),
    open(datagram) {
      const opened = trust.open(datagram, undefined);
      if (typeof opened === "string" || opened.kind !== "answer") return undefined;
      const a = decodeStatusAnswer(opened.payload);
      // Sealed: the answer must come from the host it speaks for.
      if (!a || (opened.sender !== undefined && opened.sender !== a.id)) return undefined;
      return a;
    },
  };
}
