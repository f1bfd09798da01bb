import fc from "fast-check";
import { pack } from "msgpackr";
import { describe, expect, it } from "vitest";
import {
  type DecodeResult,
  decodeFrame,
  decodeGeneral,
  encodeFrame,
  type Frame,
  PROTOCOL,
  readFrame,
} from "../../src/core/wire.js";

/** A decode result as plain data (payload bytes as arrays), for deep comparison. */
function plain(r: DecodeResult): unknown {
  if (!r.ok) return r;
  const f = r.frame;
  return {
    from: f.from,
    inc: f.inc,
    to: f.to,
    toInc: f.toInc,
    ack: f.ack,
    data: f.data.map((d) => ({ seq: d.seq, flags: d.flags, payload: [...d.payload] })),
    base: f.base,
    ctrl: f.ctrl,
    frame: f.frame,
    top: f.top,
  };
}

const u32 = fc.oneof(
  fc.integer({ min: 0, max: 200 }),
  fc.integer({ min: 0, max: 0xffff }),
  fc.integer({ min: 0, max: 0xffffffff }),
);
const ctrlValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: "small" },
    fc.integer({ min: -100_000, max: 5_000_000_000 }),
    fc.array(tie("v"), { maxLength: 4 }),
  ),
})).v;

const frameArb: fc.Arbitrary<Frame> = fc.record({
  from: fc.integer({ min: 0, max: 8 }),
  inc: fc.oneof(
    { weight: 5, arbitrary: u32 },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }) },
  ),
  to: fc.integer({ min: 0, max: 8 }),
  toInc: fc.oneof(
    { weight: 5, arbitrary: u32 },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }) },
  ),
  ack: fc.option(
    fc
      .tuple(
        u32,
        fc.array(fc.tuple(fc.integer({ min: 1, max: 50 }), fc.nat(50)), { maxLength: 17 }),
      )
      .map(([cum, steps]) => {
        const sacks: Array<[number, number]> = [];
        let at = cum;
        for (const [gap, len] of steps) {
          const a = at + gap;
          sacks.push([a, a + len]);
          at = a + len;
        }
        return { echo: cum % 7, cum, sacks };
      }),
  ),
  data: fc.array(
    fc.record({
      seq: u32,
      flags: fc.constantFrom(0, 1, 0, 1, 2),
      payload: fc.uint8Array({ maxLength: 300 }),
    }),
    { maxLength: 6 },
  ),
  base: u32,
  ctrl: fc.array(ctrlValue, { maxLength: 70 }),
  frame: u32,
  top: u32,
});

/** What the wire may bring: our frames, their bytes damaged, and other encodings of them. */
const bytesArb = fc.oneof(
  frameArb.map((f) => encodeFrame(f)),
  fc.tuple(frameArb, fc.nat(), fc.integer({ min: 0, max: 255 })).map(([f, at, x]) => {
    const b = Uint8Array.from(encodeFrame(f));
    if (b.length > 0) b[at % b.length] = x;
    return b;
  }),
  fc.tuple(frameArb, fc.nat()).map(([f, cut]) => {
    const b = encodeFrame(f);
    return b.subarray(0, cut % (b.length + 1));
  }),
  fc.tuple(frameArb, fc.uint8Array({ minLength: 1, maxLength: 3 })).map(([f, extra]) => {
    const b = encodeFrame(f);
    const out = new Uint8Array(b.length + extra.length);
    out.set(b);
    out.set(extra, b.length);
    return out;
  }),
  // The same fields through msgpackr (other integer forms, floats for big numbers).
  frameArb.map((f) => {
    const flatAck = f.ack ? [f.ack.echo, f.ack.cum, ...f.ack.sacks.flat()] : null;
    const flat = f.data.flatMap((d) => [d.seq, d.flags, d.payload]);
    return pack([
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
  }),
);

describe("wire: the field-by-field frame reader", () => {
  it("decides exactly as the general decoder on any bytes", () => {
    let fast = 0;
    fc.assert(
      fc.property(bytesArb, fc.constantFrom(9, 9, 9, 2, 5), (bytes, hosts) => {
        if (readFrame(bytes, hosts) !== undefined) fast++;
        expect(plain(decodeFrame(bytes, hosts))).toEqual(plain(decodeGeneral(bytes, hosts)));
      }),
      { numRuns: 3000, seed: 20261201 },
    );
    // The comparison covers the fast reader: it took a good share of the inputs.
    expect(fast).toBeGreaterThan(300);
  });

  it("takes valid frames of ours and their edge values", () => {
    const f: Frame = {
      from: 3,
      inc: 0xffffffff,
      to: 0,
      toInc: 0,
      ack: { echo: 0, cum: 0, sacks: [[1, 0xffff]] },
      data: [{ seq: 0x10000, flags: 1, payload: new Uint8Array(70_000).fill(9) }],
      base: 1,
      ctrl: [[], [[1, [2, [3]]]], -33, 5_000_000_000],
      frame: 0xffffffff,
      top: 0x10000,
    };
    const r = decodeFrame(encodeFrame(f), 4);
    expect(r.ok).toBe(true);
    expect(readFrame(encodeFrame(f), 4)).toBeDefined();
    expect(plain(r)).toEqual(plain(decodeGeneral(encodeFrame(f), 4)));
  });
});
