import { type Aead, TAG_BYTES } from "./trust.js";

/**
 * A stand-in for AES-256-GCM under the simulator's trust layer (fuzz runs): the body is the
 * plaintext itself and the tag a keyed 128-bit checksum of key, nonce, header and body. Every
 * length, header field and check of the envelope (key ids, sender binding, epochs, replay
 * windows, the destination's life) stays as it is; only the cipher is cheap, because one
 * AES-GCM seal and open cost a fuzz run about as much as the protocol itself. Not a cipher:
 * anyone can read and forge it. The UDP shell, the status client and the unit tests of the
 * trust layer use AES-256-GCM.
 */
export const SIM_AEAD: Aead = {
  name: "sim-checksum",
  seal(key, nonce, aad, plain, out, at) {
    out.set(plain, at);
    writeTag(key, nonce, aad, plain, out, at + plain.length);
  },
  open(key, nonce, aad, body, tag) {
    const want = scratch;
    writeTag(key, nonce, aad, body, want, 0);
    for (let i = 0; i < TAG_BYTES; i++) if (want[i] !== tag[i]) return undefined;
    return body;
  },
};

const scratch = new Uint8Array(TAG_BYTES);

/** The two lanes of the checksum being computed (module state: no allocation per datagram). */
let laneA = 0;
let laneB = 0;

function feed(bytes: Uint8Array): void {
  let a = laneA;
  let b = laneB;
  const n = bytes.length;
  const pairs = n & ~7;
  let i = 0;
  // Eight bytes a step, four into each lane; then the rest one by one into both.
  for (; i < pairs; i += 8) {
    const x =
      (bytes[i] as number) |
      ((bytes[i + 1] as number) << 8) |
      ((bytes[i + 2] as number) << 16) |
      ((bytes[i + 3] as number) << 24);
    const y =
      (bytes[i + 4] as number) |
      ((bytes[i + 5] as number) << 8) |
      ((bytes[i + 6] as number) << 16) |
      ((bytes[i + 7] as number) << 24);
    a = Math.imul(a ^ x, 0xcc9e2d51);
    a = (a << 15) | (a >>> 17);
    b = Math.imul((b + y) ^ 0x27d4eb2f, 0x1b873593);
    b = (b << 13) | (b >>> 19);
  }
  for (; i < n; i++) {
    const x = bytes[i] as number;
    a = Math.imul((a ^ x) + 0x165667b1, 0xcc9e2d51);
    a = (a << 15) | (a >>> 17);
    b = Math.imul((b + x) ^ 0x27d4eb2f, 0x1b873593);
    b = (b << 13) | (b >>> 19);
  }
  // The length ends each part, so moving bytes from one part to the next changes the tag.
  laneA = Math.imul(a ^ n, 0xc2b2ae35);
  laneB = Math.imul(b + n, 0x85ebca6b);
}

/** Two 32-bit multiply-rotate lanes over key, nonce, header and body, finalised into four words. */
function writeTag(
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array,
  body: Uint8Array,
  out: Uint8Array,
  at: number,
): void {
  laneA = 0x9e3779b1;
  laneB = 0x85ebca77;
  feed(key);
  feed(nonce);
  feed(aad);
  feed(body);
  const w0 = mix(laneA ^ Math.imul(laneB, 0x27d4eb2f));
  const w1 = mix(laneB ^ Math.imul(laneA, 0x165667b1));
  const w2 = mix(w0 + w1);
  const w3 = mix(w1 ^ Math.imul(w0, 0x9e3779b1));
  word(out, at, w0);
  word(out, at + 4, w1);
  word(out, at + 8, w2);
  word(out, at + 12, w3);
}

function word(out: Uint8Array, at: number, w: number): void {
  out[at] = w >>> 24;
  out[at + 1] = (w >>> 16) & 0xff;
  out[at + 2] = (w >>> 8) & 0xff;
  out[at + 3] = w & 0xff;
}

/** murmur3's finaliser. */
function mix(h: number): number {
  let x = h;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}
