import { createCipheriv, createDecipheriv, createHash, createHmac } from "node:crypto";

/**
 * The trust layer: the envelope every datagram travels in, between the core and either shell
 * (like the fault layer). Pure: no socket, no clock, no randomness; the shell hands it the
 * life's epoch (and, for status clients, random nonce bits).
 *
 * Envelope (all integers big-endian):
 *
 *   0   0xC1              never the first byte of a MessagePack value (so never a bare frame)
 *   1   kind              0x10 frame, 0x20 status query, 0x30 status answer; +1 when sealed
 *   2   cluster tag (4)   SHA-256("rmchat cluster\0" + name), first 4 bytes
 *   plain:  6.. payload
 *   sealed: 6  key id (4)        which key of the ring sealed it
 *           10 sender id (2)     host index, 0xFFFF for a status client
 *           12 epoch (6)     ┐   the sender's life: increases across restarts
 *           18 counter (6)   ┘   nonce = epoch ‖ counter, never repeats for one sender key
 *           24 dst epoch (6)     the destination's life as the sender knows it (0: unknown)
 *           30 ciphertext, then the 16-byte GCM tag; AAD = bytes 0..29
 *
 * Each sender seals under its own subkey HMAC-SHA256(key, "rmchat seal v1\0" cluster "\0" id),
 * so nonces only have to be unique per sender, and the cluster name is bound into every tag.
 */

export const ENVELOPE = 0xc1;
export const PLAIN_HEADER = 6;
export const SEALED_HEADER = 30;
export const TAG_BYTES = 16;
export const SEAL_OVERHEAD = SEALED_HEADER + TAG_BYTES;
/** Sender id of `rmchat status` (not a host). */
export const CLIENT_ID = 0xffff;
export const KEY_BYTES = 32;
/** Counters accepted behind the highest one seen from a sender (reordering tolerance). */
export const REPLAY_WINDOW = 16384;
const U48 = 2 ** 48;

export type EnvelopeKind = "frame" | "query" | "answer";
const KIND_CODE: Record<EnvelopeKind, number> = { frame: 0x10, query: 0x20, answer: 0x30 };

/** Why the trust layer dropped a datagram. */
export type TrustDrop = "foreign" | "auth" | "replay" | "unbound";
export const TRUST_DROPS: readonly TrustDrop[] = ["foreign", "auth", "replay", "unbound"];

export interface Opened {
  kind: EnvelopeKind;
  /** Sender id from the sealed header; the claimed source without keys. */
  sender: number | undefined;
  payload: Uint8Array;
}

export type OpenResult = Opened | TrustDrop;

/**
 * The authenticated cipher under the envelope: seals `plain` under a sender's 32-byte subkey
 * and a 12-byte nonce, authenticating `aad` too; the sealed body has the plaintext's length and
 * is followed by a TAG_BYTES tag. AES-256-GCM everywhere by default; the simulator may put a
 * stand-in here (src/runtime/sim-aead.ts) that keeps every length and every check above it.
 */
export interface Aead {
  readonly name: string;
  /** Write the sealed body of `plain` at `out[at]` and its tag right after it. */
  seal(
    key: Uint8Array,
    nonce: Uint8Array,
    aad: Uint8Array,
    plain: Uint8Array,
    out: Uint8Array,
    at: number,
  ): void;
  /** The plaintext of `body`, or undefined when `tag` does not authenticate it. */
  open(
    key: Uint8Array,
    nonce: Uint8Array,
    aad: Uint8Array,
    body: Uint8Array,
    tag: Uint8Array,
  ): Uint8Array | undefined;
}

/**
 * AES-256-GCM from node:crypto. The subkey is passed as bytes: a cipher made from a raw key
 * costs about half of one made from a KeyObject, and a datagram makes one per seal and open.
 */
export const AES_256_GCM: Aead = {
  name: "aes-256-gcm",
  seal(key, nonce, aad, plain, out, at) {
    const c = createCipheriv("aes-256-gcm", key, nonce);
    c.setAAD(aad);
    const body = c.update(plain);
    out.set(body, at);
    const fin = c.final();
    if (fin.length > 0) out.set(fin, at + body.length);
    out.set(c.getAuthTag(), at + plain.length);
  },
  open(key, nonce, aad, body, tag) {
    try {
      const d = createDecipheriv("aes-256-gcm", key, nonce);
      d.setAAD(aad);
      d.setAuthTag(tag);
      const plain = d.update(body);
      const fin = d.final();
      return fin.length === 0 ? plain : Buffer.concat([plain, fin]);
    } catch {
      return undefined;
    }
  },
};

export interface TrustOptions {
  cluster: string;
  /** The ring: the first key seals, every key opens. Empty: plain envelopes (no keys). */
  keys: readonly Uint8Array[];
  /** This process's sender id (host index, or CLIENT_ID). */
  self: number;
  /** This life's epoch: larger than any earlier life's of the same sender, < 2^48. */
  epoch: number;
  /** First counter value (default 1); status clients start at a random one. */
  counterStart?: number;
  /** The cipher (default AES_256_GCM). */
  aead?: Aead;
}

export function clusterTag(name: string): Uint8Array {
  return createHash("sha256").update(`rmchat cluster\0${name}`).digest().subarray(0, 4);
}

export function keyId(key: Uint8Array): number {
  return createHash("sha256").update("rmchat key id\0").update(key).digest().readUInt32BE(0);
}

/** A base64 key of 32 bytes, or an error message. */
export function parseKey(text: string): Uint8Array | string {
  const t = text.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(t)) return "is not base64";
  const b = Buffer.from(t, "base64");
  if (b.length !== KEY_BYTES) return `is ${b.length} bytes, not ${KEY_BYTES}`;
  return new Uint8Array(b);
}

function readU48(b: Uint8Array, at: number): number {
  return (
    (b[at] as number) * 2 ** 40 +
    (b[at + 1] as number) * 2 ** 32 +
    (b[at + 2] as number) * 2 ** 24 +
    (b[at + 3] as number) * 2 ** 16 +
    (b[at + 4] as number) * 2 ** 8 +
    (b[at + 5] as number)
  );
}

function writeU48(b: Uint8Array, at: number, v: number): void {
  const hi = Math.floor(v / 2 ** 24);
  const lo = v % 2 ** 24;
  b[at] = (hi >>> 16) & 0xff;
  b[at + 1] = (hi >>> 8) & 0xff;
  b[at + 2] = hi & 0xff;
  b[at + 3] = (lo >>> 16) & 0xff;
  b[at + 4] = (lo >>> 8) & 0xff;
  b[at + 5] = lo & 0xff;
}

/**
 * Anti-replay state for one sender (IPsec/WireGuard style): its latest epoch, the highest
 * counter seen in it and a bitmap of the REPLAY_WINDOW counters below.
 */
export class ReplayWindow {
  epoch = 0;
  private top = 0;
  private readonly bits = new Uint32Array(REPLAY_WINDOW / 32);

  /** True when (epoch, counter) is new; records it. */
  accept(epoch: number, counter: number): boolean {
    if (epoch < this.epoch) return false;
    if (epoch > this.epoch) {
      this.epoch = epoch;
      this.top = 0;
      this.bits.fill(0);
    }
    const bits = this.bits;
    const fresh = counter > this.top;
    if (fresh) {
      const gap = counter - this.top;
      if (gap >= REPLAY_WINDOW) bits.fill(0);
      else
        for (let c = this.top + 1; c < counter; c++) {
          const i = c % REPLAY_WINDOW;
          bits[i >>> 5] = (bits[i >>> 5] as number) & ~(1 << (i & 31));
        }
      this.top = counter;
    } else if (this.top - counter >= REPLAY_WINDOW) return false;
    const i = counter % REPLAY_WINDOW;
    const word = bits[i >>> 5] as number;
    const mask = 1 << (i & 31);
    if (!fresh && (word & mask) !== 0) return false;
    bits[i >>> 5] = word | mask;
    return true;
  }
}

/**
 * One process's side of the envelope: wraps outgoing payloads, opens incoming datagrams,
 * keeps the ring, the anti-replay windows and the drop counters.
 */
export class Trust {
  readonly cluster: string;
  readonly self: number;
  readonly epoch: number;
  private readonly tag: Uint8Array;
  private ring: Array<{ id: number; key: Uint8Array; sub: Map<number, Uint8Array> }> = [];
  private readonly aead: Aead;
  private counter: number;
  /** Per sender id: anti-replay window, and so the sender's latest epoch. */
  private readonly windows = new Map<number, ReplayWindow>();
  readonly dropped: Record<TrustDrop, number> = { foreign: 0, auth: 0, replay: 0, unbound: 0 };

  constructor(opts: TrustOptions) {
    if (!Number.isSafeInteger(opts.epoch) || opts.epoch < 1 || opts.epoch >= U48)
      throw new RangeError(`epoch out of range: ${opts.epoch}`);
    this.cluster = opts.cluster;
    this.self = opts.self;
    this.epoch = opts.epoch;
    this.tag = clusterTag(opts.cluster);
    this.counter = opts.counterStart ?? 1;
    this.aead = opts.aead ?? AES_256_GCM;
    this.setKeys(opts.keys);
  }

  get sealed(): boolean {
    return this.ring.length > 0;
  }

  /** Bytes the envelope adds to a payload. */
  get overhead(): number {
    return this.sealed ? SEAL_OVERHEAD : PLAIN_HEADER;
  }

  /** Key ids of the ring, primary first (for status and logs; never the keys). */
  keyIds(): string[] {
    return this.ring.map((k) => k.id.toString(16).padStart(8, "0"));
  }

  /**
   * Replace the ring (rotation): the first key seals from now on, all of them open. Going
   * from keys to none (or back) is refused: a running process does not change its exposure.
   */
  setKeys(keys: readonly Uint8Array[]): void {
    if (this.ring.length > 0 && keys.length === 0)
      throw new Error("cannot remove every key of a sealed channel");
    for (const k of keys)
      if (k.length !== KEY_BYTES) throw new RangeError(`a key must be ${KEY_BYTES} bytes`);
    const old = new Map(this.ring.map((r) => [r.id, r]));
    this.ring = keys.map((key) => {
      const id = keyId(key);
      const kept = old.get(id);
      return kept && Buffer.compare(kept.key, key) === 0 ? kept : { id, key, sub: new Map() };
    });
  }

  private subkey(slot: { key: Uint8Array; sub: Map<number, Uint8Array> }, sender: number) {
    let k = slot.sub.get(sender);
    if (!k) {
      const h = createHmac("sha256", slot.key);
      h.update(`rmchat seal v1\0${this.cluster}\0`);
      h.update(Uint8Array.of(sender >>> 8, sender & 0xff));
      k = h.digest();
      slot.sub.set(sender, k);
    }
    return k;
  }

  /** The epoch of `peer` learned from its authentic datagrams (0: none yet). */
  peerEpoch(peer: number): number {
    return this.windows.get(peer)?.epoch ?? 0;
  }

  /** Put `payload` in an envelope for `to` (a host id; undefined for status traffic). */
  wrap(kind: EnvelopeKind, to: number | undefined, payload: Uint8Array): Uint8Array {
    const slot = this.ring[0];
    if (!slot) {
      const out = Buffer.allocUnsafe(PLAIN_HEADER + payload.length);
      out[0] = ENVELOPE;
      out[1] = KIND_CODE[kind];
      out.set(this.tag, 2);
      out.set(payload, PLAIN_HEADER);
      return out;
    }
    const counter = this.counter++;
    if (this.counter >= U48) throw new Error("nonce counter exhausted: restart the process");
    const out = Buffer.allocUnsafe(SEAL_OVERHEAD + payload.length);
    out[0] = ENVELOPE;
    out[1] = KIND_CODE[kind] | 1;
    out.set(this.tag, 2);
    out.writeUInt32BE(slot.id, 6);
    out.writeUInt16BE(this.self, 10);
    writeU48(out, 12, this.epoch);
    writeU48(out, 18, counter);
    writeU48(out, 24, kind === "frame" && to !== undefined ? this.peerEpoch(to) : 0);
    this.aead.seal(
      this.subkey(slot, this.self),
      out.subarray(12, 24),
      out.subarray(0, SEALED_HEADER),
      payload,
      out,
      SEALED_HEADER,
    );
    return out;
  }

  /**
   * Open an incoming datagram that came from host `source` (undefined: not a configured
   * address). Never throws: a datagram that is not ours, does not authenticate, was seen
   * before, or is addressed to another life of ours is counted and its reason returned.
   */
  open(bytes: Uint8Array, source: number | undefined): OpenResult {
    const r = this.tryOpen(bytes, source);
    if (typeof r === "string") this.dropped[r]++;
    return r;
  }

  private tryOpen(bytes: Uint8Array, source: number | undefined): OpenResult {
    if (bytes.length < PLAIN_HEADER || bytes[0] !== ENVELOPE) return "foreign";
    const code = bytes[1] as number;
    const kind: EnvelopeKind | undefined =
      code >> 4 === 1
        ? "frame"
        : code >> 4 === 2
          ? "query"
          : code >> 4 === 3
            ? "answer"
            : undefined;
    if (kind === undefined || (code & 0x0e) !== 0) return "foreign";
    const tag = this.tag;
    if (bytes[2] !== tag[0] || bytes[3] !== tag[1] || bytes[4] !== tag[2] || bytes[5] !== tag[3])
      return "foreign";
    const isSealed = (code & 1) === 1;
    if (this.ring.length === 0) {
      if (isSealed) return "auth";
      return { kind, sender: source, payload: bytes.subarray(PLAIN_HEADER) };
    }
    if (!isSealed || bytes.length < SEAL_OVERHEAD) return "auth";
    const buf = Buffer.isBuffer(bytes)
      ? bytes
      : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
    const id = buf.readUInt32BE(6);
    let slot: (typeof this.ring)[number] | undefined;
    for (const k of this.ring) if (k.id === id) slot ??= k;
    if (!slot) return "auth";
    const sender = buf.readUInt16BE(10);
    // A frame speaks for the host whose address it came from, and only for it.
    if (kind === "frame" && sender !== source) return "auth";
    const payload = this.aead.open(
      this.subkey(slot, sender),
      buf.subarray(12, 24),
      buf.subarray(0, SEALED_HEADER),
      buf.subarray(SEALED_HEADER, buf.length - TAG_BYTES),
      buf.subarray(buf.length - TAG_BYTES),
    );
    if (payload === undefined) return "auth";
    // Status queries come from clients without a life of their own: no window (an answer is
    // never larger than its query, so a replayed query amplifies nothing).
    if (kind === "query") return { kind, sender, payload };
    let w = this.windows.get(sender);
    if (!w) {
      w = new ReplayWindow();
      this.windows.set(sender, w);
    }
    if (!w.accept(readU48(buf, 12), readU48(buf, 18))) return "replay";
    // A frame sealed before the sender knew this life of ours only teaches us the sender's
    // epoch (done above); our next datagram tells the sender ours. So nothing captured before
    // this life began can reach the core of this life.
    if (kind === "frame") {
      const dst = readU48(buf, 24);
      // Addressed to an earlier life of ours: a replay, or in flight when we restarted.
      if (dst !== this.epoch) return dst === 0 ? "unbound" : "replay";
    }
    return { kind, sender, payload };
  }
}
