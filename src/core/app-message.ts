import { Packr } from "msgpackr";
import type { View } from "./membership/view.js";
import {
  FALLBACK,
  fastUnpack,
  sizeOfArrayHeader,
  sizeOfNumber,
  sizeOfStrHeader,
  Writer,
} from "./msgpack.js";
import type { AppendMsg, AppendRespMsg, LogEntry, SubmitMsg } from "./order/log-messages.js";
import type { MsgSeq, NodeId } from "./types.js";

/** A user message as multicast by its sender (fifo and causal modes). */
export interface ChatMsg {
  kind: "chat";
  from: NodeId;
  seq: MsgSeq;
  text: string;
  /** Causal mode: the sender's vector clock at send time (vc[from] === seq). */
  vc: number[] | null;
}

export interface ViewMsg extends View {
  kind: "view";
}

/** A message of a departed sender, passed on by a member that has it. */
export interface RelayMsg {
  kind: "relay";
  inc: number;
  msg: ChatMsg;
}

/** Reliable messages carried by the per-peer channels. */
/** First message on a channel to a new life of a peer: my next message number is `next`. */
export interface BaseMsg {
  kind: "base";
  next: MsgSeq;
}

export type AppMsg = ChatMsg | ViewMsg | RelayMsg | BaseMsg | SubmitMsg | AppendMsg | AppendRespMsg;

const CHAT = 0;
const RELAY = 2;
const VIEW = 3;
const APPEND = 4;
const APPEND_RESP = 5;
const SUBMIT = 6;
const BASE = 7;
const packr = new Packr({ useRecords: false, moreTypes: false });

/** [CHAT, seq, text, vc | nil] as MessagePack, written directly (the hot path, one allocation). */
function encodeChat(m: ChatMsg): Uint8Array {
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

export function encodeApp(m: AppMsg): Uint8Array {
  switch (m.kind) {
    case "chat":
      return encodeChat(m);
    case "view":
      return packr.pack([VIEW, m.term, m.version, m.members]);
    case "relay":
      return packr.pack([RELAY, m.msg.from, m.inc, m.msg.seq, m.msg.text, m.msg.vc]);
    case "submit":
      return packr.pack([SUBMIT, m.seq, m.text]);
    case "base":
      return packr.pack([BASE, m.next]);
    case "append-resp":
      return packr.pack([APPEND_RESP, m.term, m.ok ? 1 : 0, m.index, m.reqPrev]);
    case "append": {
      const flat: unknown[] = [];
      for (const e of m.entries) flat.push(e.term, e.from, e.inc, e.seq, e.text);
      return packr.pack([
        APPEND,
        m.term,
        m.prevIndex,
        m.prevTerm,
        m.commit,
        m.compact,
        m.snap ? 1 : 0,
        flat,
      ]);
    }
  }
}

const nat = (x: unknown): x is number => typeof x === "number" && Number.isSafeInteger(x) && x >= 0;

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
  const id = (x: unknown): x is NodeId => nat(x) && x < hostCount;
  switch (raw[0]) {
    case CHAT: {
      if (raw.length !== 4) return null;
      const [, seq, text, vc] = raw as unknown[];
      return checkChat(from, seq, text, vc, hostCount);
    }
    case RELAY: {
      if (raw.length !== 6) return null;
      const [, origin, inc, seq, text, vc] = raw as unknown[];
      if (!id(origin) || origin === from || !nat(inc) || inc === 0) return null;
      const chat = checkChat(origin, seq, text, vc, hostCount);
      return chat ? { kind: "relay", inc, msg: chat } : null;
    }
    case VIEW: {
      if (raw.length !== 4) return null;
      const [, term, version, members] = raw as unknown[];
      if (!nat(term) || !nat(version) || !Array.isArray(members) || !members.every(id)) return null;
      if (new Set(members).size !== members.length || members.length === 0) return null;
      return { kind: "view", term, version, members: members as NodeId[] };
    }
    case BASE: {
      if (raw.length !== 2 || !nat(raw[1]) || raw[1] === 0) return null;
      return { kind: "base", next: raw[1] };
    }
    case SUBMIT: {
      if (raw.length !== 3) return null;
      const [, seq, text] = raw as unknown[];
      if (!nat(seq) || seq === 0 || typeof text !== "string") return null;
      return { kind: "submit", seq, text };
    }
    case APPEND_RESP: {
      if (raw.length !== 5) return null;
      const [, term, ok, index, reqPrev] = raw as unknown[];
      if (!nat(term) || (ok !== 0 && ok !== 1) || !nat(index) || !nat(reqPrev)) return null;
      return { kind: "append-resp", term, ok: ok === 1, index, reqPrev };
    }
    case APPEND: {
      if (raw.length !== 8) return null;
      const [, term, prevIndex, prevTerm, commit, compact, snap, flat] = raw as unknown[];
      if (!nat(term) || !nat(prevIndex) || !nat(prevTerm) || !nat(commit) || !nat(compact))
        return null;
      if ((snap !== 0 && snap !== 1) || !Array.isArray(flat) || flat.length % 5 !== 0) return null;
      const entries: LogEntry[] = [];
      for (let i = 0; i < flat.length; i += 5) {
        const [t, f, inc, seq, text] = flat.slice(i, i + 5) as unknown[];
        if (!nat(t) || !(f === -1 || id(f)) || !nat(inc) || !nat(seq) || typeof text !== "string")
          return null;
        entries.push({ term: t, from: f as NodeId | -1, inc, seq, text });
      }
      return {
        kind: "append",
        term,
        prevIndex,
        prevTerm,
        commit,
        compact,
        snap: snap === 1,
        entries,
      };
    }
    default:
      return null;
  }
}

function checkChat(
  from: NodeId,
  seq: unknown,
  text: unknown,
  vc: unknown,
  hostCount: number,
): ChatMsg | null {
  if (!nat(seq) || seq === 0 || typeof text !== "string") return null;
  if (vc !== null) {
    if (!Array.isArray(vc) || vc.length !== hostCount || !vc.every(nat)) return null;
    if (vc[from] !== seq) return null;
  }
  return { kind: "chat", from, seq, text, vc: vc as number[] | null };
}
