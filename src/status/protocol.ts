/**
 * The status protocol of `rmchat status`, beside the core and apart from the UDP shell: one
 * datagram asks (STATUS_QUERY), the node answers with STATUS_ANSWER + a JSON report of what it
 * knows. Read-only: answering never changes protocol state.
 */
import type { RmNode } from "../core/node.js";

export const STATUS_QUERY = Buffer.from("RMCHAT-STATUS?");
export const STATUS_ANSWER = Buffer.from("RMCHAT-STATUS!");

/** One node's answer; `id` is always there, the rest is what that kind of node reports. */
export type StatusAnswer = Record<string, unknown> & { id: number };

export function isStatusQuery(msg: Uint8Array): boolean {
  return msg.length === STATUS_QUERY.length && STATUS_QUERY.equals(msg);
}

/** What a node reports: id, address, term, role, leader, view, peers, plus `extra` (the agent's table). */
export function statusReport(
  node: RmNode,
  address: string,
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
    ...extra,
  };
}

export function encodeStatusAnswer(report: StatusAnswer): Buffer {
  return Buffer.concat([STATUS_ANSWER, Buffer.from(JSON.stringify(report))]);
}

/** An answer, or undefined for any datagram that is not a well-formed one. */
export function decodeStatusAnswer(msg: Uint8Array): StatusAnswer | undefined {
  const buf = Buffer.from(msg.buffer, msg.byteOffset, msg.byteLength);
  if (
    buf.length < STATUS_ANSWER.length ||
    !buf.subarray(0, STATUS_ANSWER.length).equals(STATUS_ANSWER)
  )
    return undefined;
  try {
    const a = JSON.parse(buf.subarray(STATUS_ANSWER.length).toString("utf8")) as unknown;
    if (typeof a !== "object" || a === null || typeof (a as { id?: unknown }).id !== "number")
      return undefined;
    return a as StatusAnswer;
  } catch {
    return undefined;
  }
}
