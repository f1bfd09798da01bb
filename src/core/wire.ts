import { Packr } from "msgpackr";
import {
  beginRead,
  endRead,
  FALLBACK,
  fastUnpack,
  readAny,
  readArrayLength,
  readBinary,
  readNil,
  readOk,
  readUint,
  sizeOfArrayHeader,
  sizeOfBinHeader,
  sizeOfNumber,
  Writer,
} from "./msgpack.js";
import type { Incarnation, NodeId, Seq } from "./types.js";

/**
 * First element of every frame: "rm" and protocol version 2 (2 added frame numbers, the
 * sender's highest sequence number and the receiver's echo). Anything else is foreign.
 */
export const PROTOCOL = 0x726d02;

/** Entry flag: more fragments of the same message follow. */
export const FLAG_MORE = 1;

export interface Ack {
  /**
   * Highest frame number received from the destination on this path (0: none): every frame it
   * sent before that one has had time to arrive, so what the ack lacks of them was lost.
   */
  echo: number;
  /** Highest sequence number received with nothing missing before it. */
  cum: Seq;
  /** Inclusive ranges above `cum` that were received too (selective ack). */
  sacks: Array<[Seq, Seq]>;
}

export interface DataEntry {
  seq: Seq;
  flags: number;
  payload: Uint8Array;
}

export interface Frame {
  from: NodeId;
  inc: Incarnation;
  to: NodeId;
  /** The destination's incarnation as the sender knows it; 0 when unknown. */
  toInc: Incarnation;
  ack: Ack | null;
  data: DataEntry[];
  /** Lowest sequence number the sender still holds for us; above `cum + 1` it abandoned the gap. */
  base: Seq;
  /** Unreliable control messages (validated by their consumer). */
  ctrl: unknown[];
  /** This frame's number on the path to the destination (from 1; echoed in its acks). */
  frame: number;
  /** Highest sequence number sent to the destination so far (0: none): a gap below it is a loss to report. */
  top: Seq;
}

export const MAX_SACK_RANGES = 16;
/** Control messages one frame may carry. */
export const MAX_CTRL = 64;
/** Upper bound of the frame overhead (header + largest ack), used to budget datagrams. */
export const FRAME_OVERHEAD = 80 + MAX_SACK_RANGES * 2 * 9;
/** Upper bound of the per-entry overhead (array slots for seq and flags, bin header). */
export const ENTRY_OVERHEAD = 12;

const packr = new Packr({ useRecords: false, moreTypes: false });

/** Nesting of control values the direct writer follows (a stable report is two deep). */
const MAX_PLAIN_DEPTH = 4;

/**
 * Encoded size of a control value made of numbers and arrays of them (what `encodeCtrl`
 * produces), or -1 for anything else: the frame then goes through msgpackr.
 */
function sizeOfPlain(v: unknown, depth: number): number {
  if (typeof v === "number") return sizeOfNumber(v);
  if (!Array.isArray(v) || depth >= MAX_PLAIN_DEPTH) return -1;
  let size = sizeOfArrayHeader(v.length);
  for (let i = 0; i < v.length; i++) {
    const x: unknown = v[i];
    if (typeof x === "number") {
      size += sizeOfNumber(x);
      continue;
    }
    const k = sizeOfPlain(x, depth + 1);
    if (k < 0) return -1;
    size += k;
  }
  return size;
}

function writePlain(w: Writer, v: unknown): void {
  if (typeof v === "number") {
    w.number(v);
    return;
  }
  const a = v as unknown[];
  w.arrayHeader(a.length);
  for (let i = 0; i < a.length; i++) {
    const x: unknown = a[i];
    if (typeof x === "number") w.number(x);
    else writePlain(w, x);
  }
}

export function encodeFrame(f: Frame): Uint8Array {
  // [PROTOCOL, from, inc, to, toInc, ack | nil, flat data, base, ctrl, frame, top], the ack
  // as [echo, cum, sack ranges flat]. Frames whose control
  // messages are numbers and arrays (all of ours) are written directly, size first, in one
  // allocation; anything else goes through msgpackr.
  const ack = f.ack;
  const ctrl = f.ctrl;
  let ctrlSize = sizeOfArrayHeader(ctrl.length);
  for (let i = 0; i < ctrl.length && ctrlSize >= 0; i++) {
    const k = sizeOfPlain(ctrl[i], 0);
    ctrlSize = k < 0 ? -1 : ctrlSize + k;
  }
  if (ctrlSize < 0) {
    let flatAck: number[] | null = null;
    if (ack) {
      flatAck = [ack.echo, ack.cum];
      for (const [a, b] of ack.sacks) flatAck.push(a, b);
    }
    const flat: Array<number | Uint8Array> = [];
    for (const d of f.data) flat.push(d.seq, d.flags, d.payload);
    return packr.pack([
      PROTOCOL,
      f.from,
      f.inc,
      f.to,
      f.toInc,
      flatAck,
      flat,
      f.base,
      f.ctrl,
      f.frame,
      f.top,
    ]);
  }
  const data = f.data;
  let size =
    1 +
    sizeOfNumber(PROTOCOL) +
    sizeOfNumber(f.from) +
    sizeOfNumber(f.inc) +
    sizeOfNumber(f.to) +
    sizeOfNumber(f.toInc) +
    sizeOfNumber(f.base) +
    sizeOfNumber(f.frame) +
    sizeOfNumber(f.top) +
    ctrlSize;
  if (ack) {
    size +=
      sizeOfArrayHeader(2 + 2 * ack.sacks.length) + sizeOfNumber(ack.echo) + sizeOfNumber(ack.cum);
    for (const [a, b] of ack.sacks) size += sizeOfNumber(a) + sizeOfNumber(b);
  } else size += 1;
  size += sizeOfArrayHeader(3 * data.length);
  for (const d of data) {
    const n = d.payload.length;
    size += sizeOfNumber(d.seq) + sizeOfNumber(d.flags) + sizeOfBinHeader(n) + n;
  }
  const w = new Writer(size);
  w.arrayHeader(11);
  w.number(PROTOCOL);
  w.number(f.from);
  w.number(f.inc);
  w.number(f.to);
  w.number(f.toInc);
  if (ack) {
    w.arrayHeader(2 + 2 * ack.sacks.length);
    w.number(ack.echo);
    w.number(ack.cum);
    for (const [a, b] of ack.sacks) {
      w.number(a);
      w.number(b);
    }
  } else w.nil();
  w.arrayHeader(3 * data.length);
  for (const d of data) {
    w.number(d.seq);
    w.number(d.flags);
    w.bin(d.payload);
  }
  w.number(f.base);
  w.arrayHeader(ctrl.length);
  for (let i = 0; i < ctrl.length; i++) writePlain(w, ctrl[i]);
  w.number(f.frame);
  w.number(f.top);
  return w.buf;
}

export type DecodeError =
  | "undecodable"
  | "not-a-frame"
  | "bad-version"
  | "bad-header"
  | "bad-ack"
  | "bad-data"
  | "bad-ctrl";

export type DecodeResult = { ok: true; frame: Frame } | { ok: false; error: DecodeError };

const isU32 = (x: unknown): x is number =>
  typeof x === "number" && Number.isInteger(x) && x >= 0 && x <= 0xffffffff;
const isInc = (x: unknown): x is number =>
  typeof x === "number" && Number.isSafeInteger(x) && x >= 0;

/** Decode and validate every field. Never throws: bad bytes are data. */
export function decodeFrame(bytes: Uint8Array, hostCount: number): DecodeResult {
  const fast = readFrame(bytes, hostCount);
  if (fast !== undefined) return { ok: true, frame: fast };
  return decodeGeneral(bytes, hostCount);
}

/**
 * The frames this implementation writes, read field by field straight into a frame (no
 * generic arrays in between). Answers undefined for anything else — another integer form,
 * an invalid field, truncation, trailing bytes — and `decodeGeneral` then decides, so the
 * result for any bytes is the general decoder's.
 */
export function readFrame(bytes: Uint8Array, hostCount: number): Frame | undefined {
  beginRead(bytes);
  const frame = readFields(hostCount);
  return endRead() ? frame : undefined;
}

function readFields(hostCount: number): DecodedFrame | undefined {
  if (readArrayLength() !== 11 || readUint() !== PROTOCOL) return undefined;
  const from = readUint();
  const inc = readUint();
  const to = readUint();
  const toInc = readUint();
  if (!readOk() || from >= hostCount || inc === 0 || to >= hostCount) return undefined;
  let ack: Ack | null = null;
  if (!readNil()) {
    const n = readArrayLength();
    if (n < 2 || n % 2 !== 0 || n > 2 + 2 * MAX_SACK_RANGES) return undefined;
    const echo = readUint();
    const cum = readUint();
    const sacks: Array<[Seq, Seq]> = [];
    let prev = cum;
    for (let i = 2; i < n; i += 2) {
      const a = readUint();
      const b = readUint();
      if (!readOk() || a <= prev || b < a) return undefined;
      sacks.push([a, b]);
      prev = b;
    }
    if (!readOk()) return undefined;
    ack = { echo, cum, sacks };
  }
  const n = readArrayLength();
  if (n < 0 || n % 3 !== 0) return undefined;
  const data: DataEntry[] = [];
  for (let i = 0; i < n; i += 3) {
    const seq = readUint();
    const flags = readUint();
    const payload = readBinary();
    if (seq <= 0 || (flags !== 0 && flags !== FLAG_MORE) || payload === undefined) return undefined;
    data.push({ seq, flags, payload });
  }
  const base = readUint();
  if (base <= 0) return undefined;
  const k = readArrayLength();
  if (k < 0 || k > MAX_CTRL) return undefined;
  const ctrl: unknown[] = new Array<unknown>(k);
  // At the depth the general reader meets them (frame 0, ctrl list 1, each message 2).
  for (let i = 0; i < k; i++) {
    ctrl[i] = readAny(2);
    if (!readOk()) return undefined;
  }
  const frame = readUint();
  const top = readUint();
  if (!readOk()) return undefined;
  return new DecodedFrame(from, inc, to, toInc, ack, data, base, ctrl, frame, top);
}

/**
 * Every frame, whatever its MessagePack forms (fastUnpack, else msgpackr), then validated: the
 * reference `decodeFrame` agrees with (exported for that test).
 */
export function decodeGeneral(bytes: Uint8Array, hostCount: number): DecodeResult {
  let raw = fastUnpack(bytes);
  if (raw === FALLBACK) {
    try {
      raw = packr.unpack(bytes);
    } catch {
      return { ok: false, error: "undecodable" };
    }
  }
  if (!Array.isArray(raw) || raw.length !== 11) return { ok: false, error: "not-a-frame" };
  const [proto, from, inc, to, toInc, ackRaw, flat, base, ctrl, frame, top] = raw as unknown[];
  if (proto !== PROTOCOL) return { ok: false, error: "bad-version" };
  if (
    !isU32(from) ||
    from >= hostCount ||
    !isInc(inc) ||
    inc === 0 ||
    !isU32(to) ||
    to >= hostCount ||
    !isInc(toInc) ||
    !isU32(base) ||
    base === 0 ||
    !isU32(frame) ||
    !isU32(top)
  ) {
    return { ok: false, error: "bad-header" };
  }
  let ack: Ack | null = null;
  if (ackRaw !== null) {
    if (
      !Array.isArray(ackRaw) ||
      ackRaw.length < 2 ||
      ackRaw.length % 2 !== 0 ||
      ackRaw.length > 2 + 2 * MAX_SACK_RANGES
    )
      return { ok: false, error: "bad-ack" };
    const echo = ackRaw[0];
    const cum = ackRaw[1];
    if (!isU32(echo) || !isU32(cum)) return { ok: false, error: "bad-ack" };
    const sacks: Array<[Seq, Seq]> = [];
    let prev = cum;
    for (let i = 2; i < ackRaw.length; i += 2) {
      const a = ackRaw[i];
      const b = ackRaw[i + 1];
      if (!isU32(a) || !isU32(b) || a <= prev || b < a) return { ok: false, error: "bad-ack" };
      sacks.push([a, b]);
      prev = b;
    }
    ack = { echo, cum, sacks };
  }
  if (!Array.isArray(flat) || flat.length % 3 !== 0) return { ok: false, error: "bad-data" };
  const data: DataEntry[] = [];
  for (let i = 0; i < flat.length; i += 3) {
    const seq = flat[i];
    const flags = flat[i + 1];
    const payload = flat[i + 2];
    if (!isU32(seq) || seq === 0 || (flags !== 0 && flags !== FLAG_MORE)) {
      return { ok: false, error: "bad-data" };
    }
    if (!(payload instanceof Uint8Array)) return { ok: false, error: "bad-data" };
    data.push({ seq, flags, payload });
  }
  if (!Array.isArray(ctrl) || ctrl.length > MAX_CTRL) return { ok: false, error: "bad-ctrl" };
  return {
    ok: true,
    frame: new DecodedFrame(from, inc, to, toInc, ack, data, base, ctrl, frame, top),
  };
}

/**
 * A decoded frame. A class, not an object literal: every decoded frame then shares one
 * hidden class whatever the number representations msgpack hands back, and V8 keeps the
 * receiver's property loads monomorphic (with a literal it kept recomputing the load
 * handler of `frame.from`, about 17% of a fuzz run's time).
 */
class DecodedFrame implements Frame {
  constructor(
    readonly from: NodeId,
    readonly inc: Incarnation,
    readonly to: NodeId,
    readonly toInc: Incarnation,
    readonly ack: Ack | null,
    readonly data: DataEntry[],
    readonly base: Seq,
    readonly ctrl: unknown[],
    readonly frame: number,
    readonly top: Seq,
  ) {}
}
