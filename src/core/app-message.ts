import { Packr } from "msgpackr";
import {
  FALLBACK,
  fastUnpack,
  sizeOfArrayHeader,
  sizeOfNumber,
  sizeOfStrHeader,
  Writer,
} from "./msgpack.js";
import type { MsgSeq, NodeId, OrderNo } from "./types.js";

/** A user message as multicast by its sender. */
export interface ChatMsg {
  kind: "chat";
  from: NodeId;
  seq: MsgSeq;
  text: string;
  /** Causal mode: the sender's vector clock at send time (vc[from] === seq). */
  vc: number[] | null;
}

/** Total mode: the sequencer's assignment of order numbers first, first+1, … to (sender, seq) pairs. */
export interface OrderMsg {
  kind: "order";
  first: OrderNo;
  /** Flat pairs: sender, seq, sender, seq, … */
  ids: number[];
}

export type AppMsg = ChatMsg | OrderMsg;

const CHAT = 0;
const ORDER = 1;
const packr = new Packr({ useRecords: false, moreTypes: false });

/** [CHAT, seq, text, vc | nil] as MessagePack, written directly (one exact allocation). */
export function encodeChat(m: ChatMsg): Uint8Array {
  const textBytes = Buffer.byteLength(m.text, "utf8");
  const vc = m.vc;
  let size = 2 + sizeOfNumber(m.seq) + sizeOfStrHeader(textBytes) + textBytes;
  if (vc) {
    size += sizeOfArrayHeader(vc.length);
    for (const x of vc) size += sizeOfNumber(x);
  } else size += 1;
  const w = new Writer(size);
  w.arrayHeader(4);
  w.number(CHAT);
  w.number(m.seq);
  w.str(m.text, textBytes);
  if (vc) {
    w.arrayHeader(vc.length);
    for (const x of vc) w.number(x);
  } else w.nil();
  return w.buf;
}

/** [ORDER, first, ids] as MessagePack. */
export function encodeOrder(m: OrderMsg): Uint8Array {
  const ids = m.ids;
  let size = 1 + sizeOfNumber(ORDER) + sizeOfNumber(m.first) + sizeOfArrayHeader(ids.length);
  for (const x of ids) size += sizeOfNumber(x);
  const w = new Writer(size);
  w.arrayHeader(3);
  w.number(ORDER);
  w.number(m.first);
  w.arrayHeader(ids.length);
  for (const x of ids) w.number(x);
  return w.buf;
}

const isCount = (x: unknown): x is number =>
  typeof x === "number" && Number.isInteger(x) && x >= 0 && x <= 0xffffffff;

/** Decode and validate an application message from `from`; null when malformed. */
export function decodeApp(from: NodeId, bytes: Uint8Array, hostCount: number): AppMsg | null {
  let raw = fastUnpack(bytes);
  if (raw === FALLBACK) {
    try {
      raw = packr.unpack(bytes);
    } catch {
      return null;
    }
  }
  if (!Array.isArray(raw)) return null;
  if (raw[0] === CHAT && raw.length === 4) {
    const [, seq, text, vc] = raw as unknown[];
    if (!isCount(seq) || seq === 0 || typeof text !== "string") return null;
    if (vc !== null) {
      if (!Array.isArray(vc) || vc.length !== hostCount || !vc.every(isCount)) return null;
      if (vc[from] !== seq) return null;
    }
    return { kind: "chat", from, seq, text, vc: vc as number[] | null };
  }
  if (raw[0] === ORDER && raw.length === 3) {
    const [, first, ids] = raw as unknown[];
    if (!isCount(first) || first === 0 || !Array.isArray(ids) || ids.length % 2 !== 0) return null;
    for (let i = 0; i < ids.length; i += 2) {
      const s = ids[i];
      const q = ids[i + 1];
      if (!isCount(s) || s >= hostCount || !isCount(q) || q === 0) return null;
    }
    return { kind: "order", first, ids: ids as number[] };
  }
  return null;
}
