import { describe, expect, it } from "vitest";
import { Sim } from "../../src/runtime/sim.js";
import { SIM_AEAD } from "../../src/runtime/sim-aead.js";
import {
  AES_256_GCM,
  type Aead,
  SEAL_OVERHEAD,
  TAG_BYTES,
  Trust,
} from "../../src/runtime/trust.js";

const KEY = new Uint8Array(32).fill(7);
const NONCE = Uint8Array.from({ length: 12 }, (_, i) => i);
const AAD = Uint8Array.from({ length: 30 }, (_, i) => 100 + i);
const PLAIN = Uint8Array.from({ length: 57 }, (_, i) => (i * 37) & 0xff);

function seal(aead: Aead, key = KEY, nonce = NONCE, aad = AAD, plain = PLAIN): Uint8Array {
  const out = new Uint8Array(plain.length + TAG_BYTES);
  aead.seal(key, nonce, aad, plain, out, 0);
  return out;
}

function open(aead: Aead, sealed: Uint8Array, key = KEY, nonce = NONCE, aad = AAD) {
  const body = sealed.subarray(0, sealed.length - TAG_BYTES);
  return aead.open(key, nonce, aad, body, sealed.subarray(sealed.length - TAG_BYTES));
}

describe("the simulator's stand-in cipher", () => {
  for (const aead of [SIM_AEAD, AES_256_GCM]) {
    it(`${aead.name}: opens what it sealed, and nothing that was changed anywhere`, () => {
      const s = seal(aead);
      expect(Array.from(open(aead, s) ?? [])).toEqual(Array.from(PLAIN));
      for (let i = 0; i < s.length; i++) {
        const t = Uint8Array.from(s);
        t[i] = (t[i] as number) ^ 0x10;
        expect(open(aead, t), `byte ${i} flipped`).toBeUndefined();
      }
      const other = (b: Uint8Array, i: number) => {
        const c = Uint8Array.from(b);
        c[i] = (c[i] as number) ^ 1;
        return c;
      };
      expect(open(aead, s, other(KEY, 31))).toBeUndefined();
      expect(open(aead, s, KEY, other(NONCE, 0))).toBeUndefined();
      expect(open(aead, s, KEY, NONCE, other(AAD, 29))).toBeUndefined();
      // An empty message still carries a tag that authenticates the header.
      const e = seal(aead, KEY, NONCE, AAD, new Uint8Array(0));
      expect(open(aead, e)?.length).toBe(0);
      expect(open(aead, e, KEY, NONCE, other(AAD, 0))).toBeUndefined();
    });
  }

  it("the tag depends on where the bytes are: moving one from the header to the body shows", () => {
    const aad = AAD.subarray(0, 29);
    const body = Uint8Array.of(AAD[29] as number, ...PLAIN);
    const s = seal(SIM_AEAD, KEY, NONCE, aad, body);
    expect(open(SIM_AEAD, s, KEY, NONCE, aad)).toBeDefined();
    const moved = s.subarray(1);
    expect(open(SIM_AEAD, moved, KEY, NONCE, AAD)).toBeUndefined();
  });

  it("under the trust layer: same envelope sizes, forgeries and replays dropped as with AES-GCM", () => {
    for (const aead of [SIM_AEAD, AES_256_GCM]) {
      const a = new Trust({ cluster: "c", keys: [KEY], self: 0, epoch: 10, aead });
      const b = new Trust({ cluster: "c", keys: [KEY], self: 1, epoch: 20, aead });
      expect(b.open(a.wrap("frame", 1, PLAIN), 0)).toBe("unbound");
      expect(typeof a.open(b.wrap("frame", 0, PLAIN), 1)).toBe("object");
      const w = a.wrap("frame", 1, PLAIN);
      expect(w.length).toBe(PLAIN.length + SEAL_OVERHEAD);
      const forged = Uint8Array.from(w);
      forged[40] = (forged[40] as number) ^ 0x20;
      expect(b.open(forged, 0), aead.name).toBe("auth");
      const ok = b.open(w, 0);
      expect(typeof ok === "object" && Array.from(ok.payload)).toEqual(Array.from(PLAIN));
      expect(b.open(w, 0), aead.name).toBe("replay");
    }
  });

  it("a sealed simulation makes the same history with the stand-in as with AES-GCM", () => {
    const run = (aead: Aead) => {
      const sim = new Sim({
        seed: 11,
        hosts: 4,
        ordering: "causal",
        faults: { delay: 0.002, drop: 0.15 },
        trust: { keys: () => [KEY], aead },
      });
      for (let i = 0; i < 4; i++)
        for (let k = 0; k < 10; k++) sim.at(1500 + 7 * k + i, () => sim.send(i, `m${i}.${k}`));
      sim.at(1600, () => sim.crash(2));
      sim.at(2600, () => sim.start(2));
      sim.run(3000);
      expect(sim.runUntilQuiet(60_000)).toBe(true);
      return { history: JSON.stringify(sim.history), datagrams: sim.datagrams };
    };
    const fast = run(SIM_AEAD);
    const real = run(AES_256_GCM);
    // A run with real traffic (280 datagrams since idle nodes send one frame per peer per
    // heartbeat; 594 before).
    expect(fast.datagrams).toBeGreaterThan(200);
    expect(fast).toEqual(real);
  });
});
