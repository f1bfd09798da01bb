import { Packr } from "msgpackr";
import type { View } from "./membership/view.js";
import {
  beginRead,
  endRead,
  FALLBACK,
  fastUnpack,
  readArrayLength,
  readNil,
  readText,
  readUint,
  sizeOfArrayHeader,
  sizeOfNumber,
  sizeOfStrHeader,
  Writer,
} from "./msgpack.js";
import type { AppendMsg, AppendRespMsg, SentEntry, SubmitMsg } from "./order/log-messages.js";
import type { HistoryEntry } from "./state/history.js";
import type { MsgSeq, NodeId } from "./types.js";
import type { FlushReport, ViewId } from "./views/flush.js";

/** A user message as multicast by its sender (fifo and causal modes). */
export interface ChatMsg {
  kind: "chat";
  from: NodeId;
  seq: MsgSeq;
  text: string;
  /** Causal mode: the sender's vector clock at send time (vc[from] === seq). */
  vc: number[] | null;
}

/** Leader → proposed member: stop and report (the view-change flush, fifo/causal). */
export interface FlushReqMsg {
  kind: "flush-req";
  term: number;
  version: number;
  members: NodeId[];
  incs: number[];
}

/** Member → leader: what it has of its installed view (see views/flush.ts). */
export interface FlushOkMsg {
  kind: "flush-ok";
  term: number;
  version: number;
  old: ViewId | null;
  next: number;
  recv: number[];
}

/** Leader → member: the new view, with every member's report (each computes the same cut). */
export interface InstallMsg {
  kind: "install";
  term: number;
  version: number;
  members: NodeId[];
  incs: number[];
  primary: ViewId | null;
  reports: FlushReport[];
}

/** State transfer to a new member: recent messages, oldest first; `done` on the last chunk. */
export interface HistoryMsg {
  kind: "history";
  term: number;
  version: number;
  done: boolean;
  entries: HistoryEntry[];
}

/** Member → every other member: I installed the view (views/start-barrier.ts). */
export interface ViewReadyMsg {
  kind: "installed";
  term: number;
  version: number;
}

/** Leader → member: you come from another view; start over as a new life. */
export interface RejoinMsg {
  kind: "rejoin";
  term: number;
}

/** A message of a departed sender, passed on by a member that has it. */
export interface RelayMsg {
  kind: "relay";
  inc: number;
  msg: ChatMsg;
}

/** Reliable messages carried by the per-peer channels. */
export type AppMsg =
  | ChatMsg
  | RelayMsg
  | FlushReqMsg
  | FlushOkMsg
  | InstallMsg
  | HistoryMsg
  | RejoinMsg
  | ViewReadyMsg
  | SubmitMsg
  | AppendMsg
  | AppendRespMsg;

const CHAT = 0;
const RELAY = 2;
const APPEND = 4;
const APPEND_RESP = 5;
const SUBMIT = 6;
const FLUSH_REQ = 8;
const FLUSH_OK = 9;
const INSTALL = 10;
const HISTORY = 11;
const REJOIN = 12;
const INSTALLED = 13;
// 14 was `start`: the leader's barrier, now views/start-barrier.ts among the members.
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

/**
 * [APPEND, term, prevIndex, prevTerm, commit, compact, nil, [term, from, inc, seq, text | nil]…]
 * written directly (an append without a snapshot: the leader's per-batch path).
 */
function encodeAppend(m: AppendMsg): Uint8Array {
  const es = m.entries;
  const bytes = new Array<number>(es.length);
  let size =
    2 +
    sizeOfNumber(m.term) +
    sizeOfNumber(m.prevIndex) +
    sizeOfNumber(m.prevTerm) +
    sizeOfNumber(m.commit) +
    sizeOfNumber(m.compact) +
    1 +
    sizeOfArrayHeader(es.length * 5);
  for (let i = 0; i < es.length; i++) {
    const e = es[i] as SentEntry;
    size += sizeOfNumber(e.term) + sizeOfNumber(e.from) + sizeOfNumber(e.inc);
    size += sizeOfNumber(e.seq);
    if (e.text === null) {
      bytes[i] = -1;
      size += 1;
    } else {
      const b = Buffer.byteLength(e.text, "utf8");
      bytes[i] = b;
      size += sizeOfStrHeader(b) + b;
    }
  }
  const w = new Writer(size);
  w.arrayHeader(8);
  w.number(APPEND);
  w.number(m.term);
  w.number(m.prevIndex);
  w.number(m.prevTerm);
  w.number(m.commit);
  w.number(m.compact);
  w.nil();
  w.arrayHeader(es.length * 5);
  for (let i = 0; i < es.length; i++) {
    const e = es[i] as SentEntry;
    w.number(e.term);
    w.number(e.from);
    w.number(e.inc);
    w.number(e.seq);
    if (e.text === null) w.nil();
    else w.str(e.text, bytes[i] as number);
  }
  return w.buf;
}

export function encodeApp(m: AppMsg): Uint8Array {
  switch (m.kind) {
    case "chat":
      return encodeChat(m);
    case "flush-req":
      return packr.pack([FLUSH_REQ, m.term, m.version, m.members, m.incs]);
    case "flush-ok":
      return packr.pack([FLUSH_OK, m.term, m.version, vid(m.old), m.next, m.recv]);
    case "install":
      return packr.pack([
        INSTALL,
        m.term,
        m.version,
        m.members,
        m.incs,
        vid(m.primary),
        m.reports.map((r) => [r.member, r.inc, vid(r.old), r.next, r.recv]),
      ]);
    case "history":
      return packr.pack([HISTORY, m.term, m.version, m.done ? 1 : 0, flatHistory(m.entries)]);
    case "rejoin":
      return packr.pack([REJOIN, m.term]);
    case "installed":
      return packr.pack([INSTALLED, m.term, m.version]);
    case "relay":
      return packr.pack([RELAY, m.msg.from, m.inc, m.msg.seq, m.msg.text, m.msg.vc]);
    case "submit":
      return packr.pack([SUBMIT, m.seq, m.text]);
    case "append-resp":
      return packr.pack([APPEND_RESP, m.term, m.ok ? 1 : 0, m.index, m.reqPrev, m.missing]);
    case "append": {
      if (m.snap === null) return encodeAppend(m);
      const flat: unknown[] = [];
      for (const e of m.entries) flat.push(e.term, e.from, e.inc, e.seq, e.text);
      const snap = m.snap
        ? [
            m.snap.view.version,
            m.snap.view.members,
            m.snap.view.incs,
            m.snap.view.term,
            flatHistory(m.snap.history),
            m.snap.ordered,
            m.snap.viewIndex,
          ]
        : null;
      return packr.pack([APPEND, m.term, m.prevIndex, m.prevTerm, m.commit, m.compact, snap, flat]);
    }
  }
}

const nat = (x: unknown): x is number => typeof x === "number" && Number.isSafeInteger(x) && x >= 0;

const vid = (v: ViewId | null): [number, number] | null => (v ? [v.term, v.version] : null);

function readVid(x: unknown): ViewId | null | undefined {
  if (x === null) return null;
  if (!Array.isArray(x) || x.length !== 2 || !nat(x[0]) || !nat(x[1])) return undefined;
  return { term: x[0], version: x[1] };
}

function flatHistory(entries: HistoryEntry[]): unknown[] {
  const flat: unknown[] = [];
  for (const e of entries) flat.push(e.from, e.inc, e.seq, e.text, e.order ?? 0);
  return flat;
}

function readHistory(flat: unknown, hostCount: number): HistoryEntry[] | null {
  if (!Array.isArray(flat) || flat.length % 5 !== 0) return null;
  const out: HistoryEntry[] = [];
  for (let i = 0; i < flat.length; i += 5) {
    const from: unknown = flat[i];
    const inc: unknown = flat[i + 1];
    const seq: unknown = flat[i + 2];
    const text: unknown = flat[i + 3];
    const order: unknown = flat[i + 4];
    if (!nat(from) || from >= hostCount || !nat(inc) || !nat(seq) || typeof text !== "string")
      return null;
    if (!nat(order)) return null;
    const e: HistoryEntry = { from, inc, seq, text };
    if (order > 0) e.order = order;
    out.push(e);
  }
  return out;
}

/** A member list with its incarnations: ids valid and unique, one incarnation each. */
function readMembers(members: unknown, incs: unknown, hostCount: number): boolean {
  if (!Array.isArray(members) || !Array.isArray(incs) || members.length !== incs.length)
    return false;
  if (members.length === 0 || !incs.every(nat)) return false;
  if (!members.every((m) => nat(m) && m < hostCount)) return false;
  return new Set(members).size === members.length;
}

const natArray = (x: unknown, len: number): x is number[] =>
  Array.isArray(x) && x.length === len && x.every(nat);

/** Decode and validate an application message from `from`; null when malformed. */
export function decodeApp(from: NodeId, bytes: Uint8Array, hostCount: number): AppMsg | null {
  const chat = readChat(from, bytes, hostCount);
  return chat !== undefined ? chat : decodeAppGeneral(from, bytes, hostCount);
}

/**
 * [CHAT, seq, text, vc | nil] read field by field, the hot path: no generic arrays, the clock
 * read straight into its own. Only the forms encodeChat writes (integers below 2^32, text
 * that readStr takes, a clock of `hostCount` entries); undefined for anything else, which
 * `decodeAppGeneral` then decides, as it would decide these forms (a test holds them equal).
 */
export function readChat(
  from: NodeId,
  bytes: Uint8Array,
  hostCount: number,
): ChatMsg | null | undefined {
  // A fixarray of 4 whose first element is CHAT (a positive fixint).
  if (bytes.length < 4 || bytes[0] !== 0x94 || bytes[1] !== CHAT) return undefined;
  beginRead(bytes);
  readArrayLength();
  readUint();
  const seq = readUint();
  const text = readText();
  let vc: number[] | null = null;
  if (!readNil()) {
    const n = readArrayLength();
    if (n !== hostCount) {
      endRead();
      return undefined;
    }
    vc = [];
    for (let k = 0; k < n; k++) vc.push(readUint());
  }
  if (!endRead() || text === undefined) return undefined;
  if (seq === 0 || (vc !== null && vc[from] !== seq)) return null;
  return { kind: "chat", from, seq, text, vc };
}

/** Any reliable message, through the generic reader (msgpackr for what it leaves). */
export function decodeAppGeneral(
  from: NodeId,
  bytes: Uint8Array,
  hostCount: number,
): AppMsg | null {
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
    case FLUSH_REQ: {
      if (raw.length !== 5) return null;
      const [, term, version, members, incs] = raw as unknown[];
      if (!nat(term) || !nat(version) || !readMembers(members, incs, hostCount)) return null;
      return {
        kind: "flush-req",
        term,
        version,
        members: members as NodeId[],
        incs: incs as number[],
      };
    }
    case FLUSH_OK: {
      if (raw.length !== 6) return null;
      const [, term, version, oldRaw, next, recv] = raw as unknown[];
      const old = readVid(oldRaw);
      if (!nat(term) || !nat(version) || old === undefined || !nat(next) || next === 0) return null;
      if (!natArray(recv, hostCount)) return null;
      return { kind: "flush-ok", term, version, old, next, recv };
    }
    case INSTALL: {
      if (raw.length !== 7) return null;
      const [, term, version, members, incs, primaryRaw, reportsRaw] = raw as unknown[];
      const primary = readVid(primaryRaw);
      if (!nat(term) || !nat(version) || primary === undefined) return null;
      if (!readMembers(members, incs, hostCount) || !Array.isArray(reportsRaw)) return null;
      const reports: FlushReport[] = [];
      for (const r of reportsRaw) {
        if (!Array.isArray(r) || r.length !== 5) return null;
        const [member, inc, oldRaw, next, recv] = r as unknown[];
        const old = readVid(oldRaw);
        if (!id(member) || !nat(inc) || old === undefined || !nat(next) || next === 0) return null;
        if (!natArray(recv, hostCount)) return null;
        reports.push({ member, inc, old, next, recv });
      }
      return {
        kind: "install",
        term,
        version,
        members: members as NodeId[],
        incs: incs as number[],
        primary,
        reports,
      };
    }
    case HISTORY: {
      if (raw.length !== 5) return null;
      const [, term, version, done, flat] = raw as unknown[];
      const entries = readHistory(flat, hostCount);
      if (!nat(term) || !nat(version) || (done !== 0 && done !== 1) || !entries) return null;
      return { kind: "history", term, version, done: done === 1, entries };
    }
    case INSTALLED: {
      if (raw.length !== 3 || !nat(raw[1]) || !nat(raw[2])) return null;
      return { kind: "installed", term: raw[1], version: raw[2] };
    }
    case REJOIN: {
      if (raw.length !== 2 || !nat(raw[1])) return null;
      return { kind: "rejoin", term: raw[1] };
    }
    case SUBMIT: {
      if (raw.length !== 3) return null;
      const [, seq, text] = raw as unknown[];
      if (!nat(seq) || seq === 0 || typeof text !== "string") return null;
      return { kind: "submit", seq, text };
    }
    case APPEND_RESP: {
      if (raw.length !== 6) return null;
      const [, term, ok, index, reqPrev, missing] = raw as unknown[];
      if (!nat(term) || (ok !== 0 && ok !== 1) || !nat(index) || !nat(reqPrev) || !nat(missing))
        return null;
      return { kind: "append-resp", term, ok: ok === 1, index, reqPrev, missing };
    }
    case APPEND: {
      if (raw.length !== 8) return null;
      const [, term, prevIndex, prevTerm, commit, compact, snapRaw, flat] = raw as unknown[];
      if (!nat(term) || !nat(prevIndex) || !nat(prevTerm) || !nat(commit) || !nat(compact))
        return null;
      if (!Array.isArray(flat) || flat.length % 5 !== 0) return null;
      let snap: AppendMsg["snap"] = null;
      if (snapRaw !== null) {
        if (!Array.isArray(snapRaw) || snapRaw.length !== 7) return null;
        const [version, members, incs, vterm, hist, ordered, viewIndex] = snapRaw as unknown[];
        const history = readHistory(hist, hostCount);
        if (!nat(version) || !nat(vterm) || !nat(viewIndex) || !history) return null;
        const empty = Array.isArray(members) && members.length === 0;
        if (!empty && !readMembers(members, incs, hostCount)) return null;
        if (!Array.isArray(ordered) || ordered.length % 3 !== 0 || !ordered.every(nat)) return null;
        snap = {
          view: {
            term: vterm,
            version,
            members: members as NodeId[],
            incs: (incs as number[]) ?? [],
          },
          viewIndex,
          history,
          ordered: ordered as number[],
        };
      }
      const entries: SentEntry[] = [];
      for (let i = 0; i < flat.length; i += 5) {
        const t: unknown = flat[i];
        const f: unknown = flat[i + 1];
        const inc: unknown = flat[i + 2];
        const seq: unknown = flat[i + 3];
        const text: unknown = flat[i + 4];
        if (!nat(t) || !(f === -1 || f === -2 || id(f)) || !nat(inc) || !nat(seq)) return null;
        if (text === null) {
          if (f === -1 || f === -2) return null; // the leader's own entries always carry theirs
        } else if (typeof text !== "string" || (f === -2 && !parseViewText(text, hostCount)))
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
        snap,
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

/** A view as the text of a total-order log entry (from = -2). */
export function viewText(v: View): string {
  return JSON.stringify([v.term, v.version, v.members, v.incs]);
}

export function parseViewText(text: string, hostCount: number): View | null {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return null;
  }
  if (!Array.isArray(raw) || raw.length !== 4) return null;
  const [term, version, members, incs] = raw as unknown[];
  if (!nat(term) || !nat(version) || !readMembers(members, incs, hostCount)) return null;
  return { term, version, members: members as NodeId[], incs: incs as number[] };
}
