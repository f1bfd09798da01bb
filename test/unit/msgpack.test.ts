import fc from "fast-check";
import { Packr, pack, unpack } from "msgpackr";
import { describe, expect, it } from "vitest";
import { decodeApp, decodeAppGeneral, encodeApp, readChat } from "../../src/core/app-message.js";
import { FALLBACK, fastUnpack } from "../../src/core/msgpack.js";
import { encodeFrame, type Frame } from "../../src/core/wire.js";

const reference = new Packr({ useRecords: false, moreTypes: false });

/** Values of the kinds frames and chat messages are made of (and a few they are not). */
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: "small" },
    fc.integer({ min: -(2 ** 31), max: 2 ** 32 - 1 }),
    fc.maxSafeNat(),
    fc.double({ noNaN: true }),
    fc.string(),
    fc.string({ unit: "grapheme" }),
    fc.constant(null),
    fc.boolean(),
    fc.uint8Array({ maxLength: 300 }),
    fc.array(tie("v"), { maxLength: 20 }),
    fc.dictionary(fc.string(), fc.integer(), { maxKeys: 3 }),
  ),
})).v;

const norm = (x: unknown): unknown =>
  x instanceof Uint8Array ? { bin: [...x] } : Array.isArray(x) ? x.map(norm) : x;

describe("fast MessagePack reader", () => {
  it("decodes what msgpackr decodes, identically, or leaves the bytes to msgpackr", () => {
    fc.assert(
      fc.property(value, fc.boolean(), (v, records) => {
        const bytes = records ? pack(v) : reference.pack(v);
        const fast = fastUnpack(bytes);
        if (fast === FALLBACK) return;
        expect(norm(fast)).toEqual(norm(unpack(bytes)));
      }),
      { numRuns: 2000 },
    );
  });

  it("leaves a leading byte order mark and invalid UTF-8 to msgpackr", () => {
    for (const text of ["\uFEFF", "\uFEFFhello", `\uFEFF${"é".repeat(100)}`]) {
      const bytes = reference.pack(text);
      expect(fastUnpack(bytes)).toBe(FALLBACK);
      expect(unpack(bytes)).toBeTypeOf("string");
    }
    // A continuation byte alone, an overlong "/", a surrogate: each inside a valid text.
    for (const bad of [[0x80], [0xc0, 0xaf], [0xed, 0xa0, 0x80]]) {
      const bytes = Uint8Array.from([0xa0 + bad.length + 2, 0x61, ...bad, 0x62]);
      expect(fastUnpack(bytes)).toBe(FALLBACK);
    }
    expect(fastUnpack(reference.pack("é€😀 ok"))).toBe("é€😀 ok");
  });

  it("never throws and never accepts truncated or padded bytes", () => {
    fc.assert(
      fc.property(value, fc.nat(), (v, cut) => {
        const bytes = reference.pack(v);
        const short = bytes.subarray(0, cut % Math.max(1, bytes.length));
        if (short.length < bytes.length) expect(fastUnpack(short)).toBe(FALLBACK);
        const long = new Uint8Array(bytes.length + 1);
        long.set(bytes);
        expect(fastUnpack(long)).toBe(FALLBACK);
      }),
      { numRuns: 1000 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (junk) => {
        const fast = fastUnpack(junk);
        if (fast === FALLBACK) return;
        expect(norm(fast)).toEqual(norm(unpack(junk)));
      }),
      { numRuns: 3000 },
    );
  });
});

/** Frames as the core builds them; `inc` and `ctrl` vary by test. */
function frameArb(
  inc: fc.Arbitrary<number>,
  data: { maxPayload: number; maxEntries: number },
  ctrl: fc.Arbitrary<unknown[]>,
) {
  return fc.record({
    from: fc.nat(1023),
    inc,
    to: fc.nat(1023),
    toInc: inc,
    ack: fc.option(
      fc.record({
        echo: fc.nat(),
        cum: fc.nat(),
        sacks: fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 16 }),
      }),
    ),
    data: fc.array(
      fc.record({
        seq: fc.nat(),
        flags: fc.nat(1),
        payload: fc.uint8Array({ maxLength: data.maxPayload }),
      }),
      { maxLength: data.maxEntries },
    ),
    base: fc.integer({ min: 1, max: 2 ** 32 - 1 }),
    ctrl,
    frame: fc.nat(),
    top: fc.nat(),
  });
}

/** The frame as msgpackr packs it: the reference encoding. */
function referenceFrame(f: Frame): Uint8Array {
  const flat = f.data.flatMap((d) => [d.seq, d.flags, d.payload]);
  const ack = f.ack ? [f.ack.echo, f.ack.cum, ...f.ack.sacks.flat()] : null;
  return reference.pack([
    0x726d02,
    f.from,
    f.inc,
    f.to,
    f.toInc,
    ack,
    flat,
    f.base,
    f.ctrl,
    f.frame,
    f.top,
  ]);
}

describe("direct MessagePack writer", () => {
  it("writes frames msgpackr reads back as the same array, as small or smaller", () => {
    const frame = frameArb(
      fc.maxSafeNat(),
      { maxPayload: 2000, maxEntries: 40 },
      fc.constant<unknown[]>([]),
    );
    fc.assert(
      fc.property(frame, (f) => {
        const mine = encodeFrame(f as Frame);
        const theirs = referenceFrame(f as Frame);
        expect(norm(unpack(mine))).toEqual(norm(unpack(theirs)));
        expect(mine.length).toBeLessThanOrEqual(theirs.length);
        expect(fastUnpack(mine)).not.toBe(FALLBACK); // the fast path reads what it writes
      }),
      { numRuns: 500 },
    );
  });

  it("writes frames with control messages byte for byte as msgpackr does", () => {
    const nat = fc.oneof(fc.nat(300), fc.nat(), fc.maxSafeNat());
    // What encodeCtrl makes: [tag, numbers…] and the stable report [9, numbers[], numbers[]].
    const ctrl = fc.array(
      fc.oneof(
        fc.tuple(fc.nat(9), nat, nat),
        fc.tuple(fc.constant(9), fc.array(nat, { maxLength: 20 }), fc.array(nat)),
      ),
      { minLength: 1, maxLength: 5 },
    );
    const frame = frameArb(nat, { maxPayload: 70_000, maxEntries: 3 }, ctrl);
    fc.assert(
      fc.property(frame, (f) => {
        const mine = encodeFrame(f as Frame);
        expect(Buffer.from(mine).equals(Buffer.from(referenceFrame(f as Frame)))).toBe(true);
      }),
      { numRuns: 300 },
    );
    // Control values of other kinds still go through msgpackr and decode as sent.
    const odd: Frame = {
      from: 1,
      inc: 2,
      to: 0,
      toInc: 0,
      ack: null,
      data: [],
      base: 1,
      ctrl: [
        [1, "x"],
        [2, null],
      ],
      frame: 3,
      top: 0,
    };
    expect(unpack(encodeFrame(odd))).toEqual([0x726d02, 1, 2, 0, 0, null, [], 1, odd.ctrl, 3, 0]);
  });

  it("writes chat and append messages that decode to the same message", () => {
    fc.assert(
      fc.property(
        fc.nat(3),
        fc.integer({ min: 1, max: 2 ** 32 - 1 }),
        fc.string({ unit: "grapheme", maxLength: 300 }),
        fc.boolean(),
        (from, seq, text, causal) => {
          const vc = causal ? [0, 0, 0, 0].map((_, i) => (i === from ? seq : i * 1000)) : null;
          const bytes = encodeApp({ kind: "chat", from, seq, text, vc });
          expect(unpack(bytes)).toEqual([0, seq, text, vc]);
          expect(decodeApp(from, bytes, 4)).toEqual({ kind: "chat", from, seq, text, vc });
          const ascii = [...text].every((c) => c.charCodeAt(0) < 0x80);
          if (ascii) expect(fastUnpack(bytes)).not.toBe(FALLBACK);
        },
      ),
      { numRuns: 500 },
    );
    const entries = [
      { term: 3, from: -1, inc: 0, seq: 0, text: "" },
      { term: 3, from: 2, inc: 70000, seq: 300, text: "héllo" },
    ];
    const msg = {
      kind: "append" as const,
      term: 3,
      prevIndex: 70000,
      prevTerm: 2,
      commit: 69999,
      compact: 0,
      snap: null,
      entries,
    };
    expect(decodeApp(0, encodeApp(msg), 4)).toEqual(msg);
  });

  it("reads every chat message it writes on the direct path (but a leading byte order mark)", () => {
    fc.assert(
      fc.property(
        fc.nat(3),
        fc.integer({ min: 1, max: 2 ** 32 - 1 }),
        // Every str form: fixstr, str8, str16, str32; ASCII and any Unicode text.
        fc.oneof(
          fc.string({ maxLength: 31 }),
          fc.string({ minLength: 32, maxLength: 255, size: "max" }),
          fc.string({ minLength: 256, maxLength: 65535, size: "max" }),
          fc.string({ minLength: 65536, maxLength: 66000, size: "max" }),
          fc.string({ unit: "grapheme", maxLength: 300 }),
          fc.string({ unit: "binary", maxLength: 300 }),
        ),
        fc.boolean(),
        (from, seq, raw, causal) => {
          // Lone surrogates become U+FFFD in UTF-8: what the reader gets back is that text.
          const text = Buffer.from(raw, "utf8").toString("utf8");
          if (text.startsWith("\uFEFF")) return;
          const vc = causal ? [0, 1, 2, 3].map((i) => (i === from ? seq : i * 70000)) : null;
          const m = { kind: "chat" as const, from, seq, text, vc };
          expect(readChat(from, encodeApp(m), 4)).toEqual(m);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("reads chat messages on the direct path exactly as the general reader does", () => {
    // Chat-shaped arrays in every form msgpackr writes (float64 and negative numbers, clocks
    // of other lengths, non-ASCII text, other element types), and the bytes cut or changed.
    const num = fc.oneof(
      fc.integer({ min: 0, max: 300 }),
      fc.integer({ min: -(2 ** 31), max: 2 ** 32 - 1 }),
      fc.maxSafeNat(),
      fc.double({ noNaN: true }),
    );
    const chat = fc.tuple(
      fc.nat(4),
      fc.oneof(fc.constant(0), fc.constant(0.5), num),
      num,
      fc.oneof(
        fc.string(),
        fc.string({ minLength: 20, maxLength: 300 }),
        fc.string({ unit: "grapheme" }),
        value,
      ),
      fc.oneof(fc.constant(null), fc.array(num, { minLength: 2, maxLength: 6 }), value),
      fc.boolean(),
    );
    const mutation = fc.option(fc.tuple(fc.nat(), fc.nat(255), fc.nat(3)), { freq: 2 });
    fc.assert(
      fc.property(chat, mutation, ([from, kind, seq, text, vcRaw, own], mut) => {
        // Half the clocks have the sender's entry equal to seq (valid when 4 entries long).
        const vc =
          own && Array.isArray(vcRaw) ? vcRaw.map((x, i) => (i === from ? seq : x)) : vcRaw;
        let bytes: Uint8Array = reference.pack([kind, seq, text, vc]);
        if (mut) {
          const [at, byte, how] = mut;
          const i = at % bytes.length;
          if (how === 0) bytes = bytes.subarray(0, i);
          else if (how === 1) bytes = Uint8Array.from([...bytes, byte]);
          else {
            bytes = Uint8Array.from(bytes);
            bytes[i] = byte;
          }
        }
        expect(decodeApp(from, bytes, 4)).toEqual(decodeAppGeneral(from, bytes, 4));
      }),
      { numRuns: 5000 },
    );
  });

  it("writes submit and append messages as msgpackr would read them, and decodeApp reads back", () => {
    const entry = fc.oneof(
      fc.record({
        term: fc.nat(2 ** 32 - 1),
        from: fc.constant(-1),
        inc: fc.constant(0),
        seq: fc.constant(0),
        text: fc.constant(""),
      }),
      fc.record({
        term: fc.nat(2 ** 32 - 1),
        from: fc.nat(3),
        inc: fc.nat(2 ** 32 - 1),
        seq: fc.integer({ min: 1, max: 2 ** 32 - 1 }),
        text: fc.option(fc.string({ unit: "grapheme", maxLength: 60 }), { nil: null }),
      }),
    );
    fc.assert(
      fc.property(
        fc.array(entry, { maxLength: 40 }),
        fc.array(fc.nat(2 ** 40), { minLength: 5, maxLength: 5 }),
        fc.string({ unit: "grapheme", maxLength: 300 }),
        (entries, [term, prevIndex, prevTerm, commit, compact], text) => {
          const msg = {
            kind: "append" as const,
            term: term as number,
            prevIndex: prevIndex as number,
            prevTerm: prevTerm as number,
            commit: commit as number,
            compact: compact as number,
            snap: null,
            entries,
          };
          const bytes = encodeApp(msg);
          const flat = entries.flatMap((e) => [e.term, e.from, e.inc, e.seq, e.text]);
          expect(unpack(bytes)).toEqual([
            4,
            term,
            prevIndex,
            prevTerm,
            commit,
            compact,
            null,
            flat,
          ]);
          expect(decodeApp(0, bytes, 4)).toEqual(msg);
          const seq = (commit as number) + 1;
          const sub = encodeApp({ kind: "submit", seq, text });
          expect(unpack(sub)).toEqual([6, seq, text]);
          expect(decodeApp(1, sub, 4)).toEqual({ kind: "submit", seq, text });
        },
      ),
      { numRuns: 300 },
    );
  });
});
