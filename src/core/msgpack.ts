/**
 * A small MessagePack reader and writer for the hot path (frames and chat messages), next to
 * msgpackr, which stays the reference: the reader handles only nil, booleans, integers,
 * float64, strings of valid UTF-8, binaries and arrays, and answers FALLBACK for anything else
 * (maps, extensions, invalid UTF-8 or a leading byte order mark, trailing bytes,
 * truncation…), so the caller decodes those bytes with msgpackr exactly as before. Where it
 * does answer, the value equals msgpackr's.
 * The writer emits standard MessagePack (smallest integer, string, binary and array forms;
 * float64 for integers beyond 32 bits, as msgpackr does), which msgpackr decodes.
 */

import { isUtf8 } from "node:buffer";

export const FALLBACK: unique symbol = Symbol("msgpack-fallback");

const MAX_DEPTH = 8;

/** Reader state for one call (module-level: no allocation per call, not re-entrant). */
let src: Buffer = Buffer.alloc(0);
let pos = 0;
let end = 0;
let failed = false;

function fail(): undefined {
  failed = true;
  return undefined;
}

/** True when `n` more bytes are there (and moves past them). */
function take(n: number): boolean {
  if (pos + n > end) {
    failed = true;
    return false;
  }
  pos += n;
  return true;
}

function readValue(depth: number): unknown {
  if (pos >= end) return fail();
  const t = src[pos++] as number;
  if (t < 0x80) return t;
  if (t >= 0xe0) return t - 0x100;
  if (t >= 0x90 && t <= 0x9f) return readArray(t & 0x0f, depth);
  if (t >= 0xa0 && t <= 0xbf) return readStr(t & 0x1f);
  switch (t) {
    case 0xc0:
      return null;
    case 0xc2:
      return false;
    case 0xc3:
      return true;
    case 0xc4:
      return take(1) ? readBin(src[pos - 1] as number) : undefined;
    case 0xc5:
      return take(2) ? readBin(src.readUInt16BE(pos - 2)) : undefined;
    case 0xc6:
      return take(4) ? readBin(src.readUInt32BE(pos - 4)) : undefined;
    case 0xcb:
      return take(8) ? src.readDoubleBE(pos - 8) : undefined;
    case 0xcc:
      return take(1) ? (src[pos - 1] as number) : undefined;
    case 0xcd:
      return take(2) ? src.readUInt16BE(pos - 2) : undefined;
    case 0xce:
      return take(4) ? src.readUInt32BE(pos - 4) : undefined;
    case 0xd0:
      return take(1) ? src.readInt8(pos - 1) : undefined;
    case 0xd1:
      return take(2) ? src.readInt16BE(pos - 2) : undefined;
    case 0xd2:
      return take(4) ? src.readInt32BE(pos - 4) : undefined;
    case 0xd9:
      return take(1) ? readStr(src[pos - 1] as number) : undefined;
    case 0xda:
      return take(2) ? readStr(src.readUInt16BE(pos - 2)) : undefined;
    case 0xdb:
      return take(4) ? readStr(src.readUInt32BE(pos - 4)) : undefined;
    case 0xdc:
      return take(2) ? readArray(src.readUInt16BE(pos - 2), depth) : undefined;
    case 0xdd:
      return take(4) ? readArray(src.readUInt32BE(pos - 4), depth) : undefined;
    default:
      // float32, 64-bit integers, maps, extensions, 0xc1: msgpackr's business.
      return fail();
  }
}

function readArray(n: number, depth: number): unknown {
  // Every element takes at least one byte: a longer array is truncated or hostile.
  if (depth >= MAX_DEPTH || n > end - pos) return fail();
  const a = new Array<unknown>(n);
  for (let i = 0; i < n; i++) {
    a[i] = readValue(depth + 1);
    if (failed) return undefined;
  }
  return a;
}

function readBin(n: number): unknown {
  if (n > end - pos) return fail();
  pos += n;
  return src.subarray(pos - n, pos);
}

function readStr(n: number): unknown {
  if (n > end - pos) return fail();
  const s = pos;
  const e = pos + n;
  for (let i = s; i < e; i++) {
    if ((src[i] as number) >= 0x80) {
      // Valid UTF-8 decodes the same everywhere, but msgpackr without its native extension
      // drops a leading byte order mark from long texts (TextDecoder), and bad bytes are
      // its business: those texts stay with msgpackr.
      if (src[s] === 0xef && src[s + 1] === 0xbb && src[s + 2] === 0xbf) return fail();
      if (!isUtf8(src.subarray(s, e))) return fail();
      pos = e;
      return (src as unknown as Slicer).utf8Slice(s, e);
    }
  }
  pos = e;
  // Latin-1 of ASCII bytes is the same text, and the cheapest decoder there is.
  return (src as unknown as Slicer).latin1Slice(s, e);
}

/** Node's Buffer has latin1Slice and utf8Slice (under toString); its types omit them. */
interface Slicer {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
}

/** Decode one value that fills `bytes` exactly, or FALLBACK. Never throws. */
export function fastUnpack(bytes: Uint8Array): unknown {
  src = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  pos = 0;
  end = bytes.length;
  failed = false;
  const v = readValue(0);
  const ok = !failed && pos === end;
  src = EMPTY;
  return ok ? v : FALLBACK;
}

const EMPTY = Buffer.alloc(0);

// ---------------------------------------------------------------------------------------
// Cursor: read a value of known layout field by field (frames), without building the
// generic arrays first. Each read answers a sentinel (-1, undefined) and marks the read
// failed when the next value is not of the asked form; the caller then decodes the bytes
// the general way, so only the forms below take this path.

/** Start reading `bytes` (not re-entrant: one cursor at a time, finished with `endRead`). */
export function beginRead(bytes: Uint8Array): void {
  src = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  pos = 0;
  end = bytes.length;
  failed = false;
}

/** True when every read succeeded and the bytes were used up exactly; releases the bytes. */
export function endRead(): boolean {
  const ok = !failed && pos === end;
  src = EMPTY;
  return ok;
}

/** An unsigned integer below 2^32 in any of its integer forms, or -1. */
export function readUint(): number {
  if (pos >= end) return failU();
  const t = src[pos] as number;
  if (t < 0x80) {
    pos++;
    return t;
  }
  if (t === 0xcc && pos + 2 <= end) {
    pos += 2;
    return src[pos - 1] as number;
  }
  if (t === 0xcd && pos + 3 <= end) {
    pos += 3;
    return ((src[pos - 2] as number) << 8) | (src[pos - 1] as number);
  }
  if (t === 0xce && pos + 5 <= end) {
    pos += 5;
    return src.readUInt32BE(pos - 4);
  }
  return failU();
}

function failU(): number {
  failed = true;
  return -1;
}

/** The length of an array header, or -1. */
export function readArrayLength(): number {
  if (pos >= end) return failU();
  const t = src[pos] as number;
  if (t >= 0x90 && t <= 0x9f) {
    pos++;
    return t & 0x0f;
  }
  if (t === 0xdc && pos + 3 <= end) {
    pos += 3;
    return src.readUInt16BE(pos - 2);
  }
  if (t === 0xdd && pos + 5 <= end) {
    pos += 5;
    return src.readUInt32BE(pos - 4);
  }
  return failU();
}

/** True (and consumed) when the next value is nil; false, consuming nothing, otherwise. */
export function readNil(): boolean {
  if (pos < end && src[pos] === 0xc0) {
    pos++;
    return true;
  }
  return false;
}

/**
 * The length in the header of an 8-, 16- or 32-bit sized form whose 8-bit type byte is
 * `first` (bin8 0xc4, str8 0xd9; the next two codes are the wider ones), the header consumed;
 * -1, consuming nothing, when the next value is not of those forms.
 */
function sizedLength(first: number): number {
  const t = src[pos] as number;
  if (t === first && pos + 2 <= end) {
    pos += 2;
    return src[pos - 1] as number;
  }
  if (t === first + 1 && pos + 3 <= end) {
    pos += 3;
    return src.readUInt16BE(pos - 2);
  }
  if (t === first + 2 && pos + 5 <= end) {
    pos += 5;
    return src.readUInt32BE(pos - 4);
  }
  return -1;
}

/** A binary (a view into the bytes read), or undefined. */
export function readBinary(): Uint8Array | undefined {
  if (pos >= end) return fail();
  const n = sizedLength(0xc4);
  return n < 0 ? fail() : (readBin(n) as Uint8Array | undefined);
}

/** A string in any str form, or undefined (the read failed: readStr's exceptions go the general way). */
export function readText(): string | undefined {
  if (pos >= end) return fail();
  const t = src[pos] as number;
  if (t >= 0xa0 && t <= 0xbf) {
    pos += 1;
    return readStr(t & 0x1f) as string | undefined;
  }
  const n = sizedLength(0xd9);
  return n < 0 ? fail() : (readStr(n) as string | undefined);
}

/** Any value `fastUnpack` reads, as it reads it at nesting `depth`; undefined on failure. */
export function readAny(depth: number): unknown {
  return readValue(depth);
}

/** True when no read has failed so far. */
export function readOk(): boolean {
  return !failed;
}

// ---------------------------------------------------------------------------------------
// Writer: size first, then one exact allocation (pooled by Node for small buffers).

/** Encoded size of a number (integers up to 32 bits in their smallest form, else float64). */
export function sizeOfNumber(x: number): number {
  if (x >>> 0 === x) return x < 0x80 ? 1 : x < 0x100 ? 2 : x < 0x10000 ? 3 : 5;
  if (x >> 0 === x) return x >= -0x20 ? 1 : x >= -0x80 ? 2 : x >= -0x8000 ? 3 : 5;
  return 9;
}

export function sizeOfArrayHeader(n: number): number {
  return n < 16 ? 1 : n < 0x10000 ? 3 : 5;
}

export function sizeOfBinHeader(n: number): number {
  return n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;
}

export function sizeOfStrHeader(n: number): number {
  return n < 32 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;
}

/** A cursor over a buffer of known size. */
export class Writer {
  readonly buf: Buffer;
  pos = 0;

  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }

  nil(): void {
    this.buf[this.pos++] = 0xc0;
  }

  number(x: number): void {
    const b = this.buf;
    if (x >>> 0 === x) {
      if (x < 0x80) b[this.pos++] = x;
      else if (x < 0x100) {
        b[this.pos++] = 0xcc;
        b[this.pos++] = x;
      } else if (x < 0x10000) {
        // Byte by byte: cheaper than Buffer's checked writers on this hot path.
        const p = this.pos;
        b[p] = 0xcd;
        b[p + 1] = x >>> 8;
        b[p + 2] = x & 0xff;
        this.pos = p + 3;
      } else {
        const p = this.pos;
        b[p] = 0xce;
        b[p + 1] = x >>> 24;
        b[p + 2] = (x >>> 16) & 0xff;
        b[p + 3] = (x >>> 8) & 0xff;
        b[p + 4] = x & 0xff;
        this.pos = p + 5;
      }
    } else if (x >> 0 === x) {
      if (x >= -0x20) b[this.pos++] = x & 0xff;
      else if (x >= -0x80) {
        b[this.pos++] = 0xd0;
        this.pos = b.writeInt8(x, this.pos);
      } else if (x >= -0x8000) {
        b[this.pos++] = 0xd1;
        this.pos = b.writeInt16BE(x, this.pos);
      } else {
        b[this.pos++] = 0xd2;
        this.pos = b.writeInt32BE(x, this.pos);
      }
    } else {
      b[this.pos++] = 0xcb;
      this.pos = b.writeDoubleBE(x, this.pos);
    }
  }

  arrayHeader(n: number): void {
    const b = this.buf;
    if (n < 16) b[this.pos++] = 0x90 | n;
    else if (n < 0x10000) {
      b[this.pos++] = 0xdc;
      this.pos = b.writeUInt16BE(n, this.pos);
    } else {
      b[this.pos++] = 0xdd;
      this.pos = b.writeUInt32BE(n, this.pos);
    }
  }

  bin(data: Uint8Array): void {
    const b = this.buf;
    const n = data.length;
    if (n < 0x100) {
      b[this.pos++] = 0xc4;
      b[this.pos++] = n;
    } else if (n < 0x10000) {
      b[this.pos++] = 0xc5;
      this.pos = b.writeUInt16BE(n, this.pos);
    } else {
      b[this.pos++] = 0xc6;
      this.pos = b.writeUInt32BE(n, this.pos);
    }
    b.set(data, this.pos);
    this.pos += n;
  }

  /** A string of `bytes` UTF-8 bytes (the caller measured it). */
  str(s: string, bytes: number): void {
    const b = this.buf;
    if (bytes < 32) b[this.pos++] = 0xa0 | bytes;
    else if (bytes < 0x100) {
      b[this.pos++] = 0xd9;
      b[this.pos++] = bytes;
    } else if (bytes < 0x10000) {
      b[this.pos++] = 0xda;
      this.pos = b.writeUInt16BE(bytes, this.pos);
    } else {
      b[this.pos++] = 0xdb;
      this.pos = b.writeUInt32BE(bytes, this.pos);
    }
    this.pos += b.write(s, this.pos, bytes, "utf8");
  }
}
