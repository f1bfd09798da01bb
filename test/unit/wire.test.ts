import { pack } from "msgpackr";
import { describe, expect, it } from "vitest";
import { decodeFrame, encodeFrame, type Frame, PROTOCOL } from "../../src/core/wire.js";

const frame: Frame = {
  from: 2,
  inc: 1_795_000_000_123,
  to: 1,
  toInc: 77,
  ack: {
    echo: 4,
    cum: 10,
    sacks: [
      [12, 13],
      [15, 15],
    ],
  },
  data: [
    { seq: 11, flags: 0, payload: new Uint8Array([1, 2, 3]) },
    { seq: 14, flags: 1, payload: new Uint8Array(0) },
  ],
  base: 9,
  ctrl: [[7, 3, 12]],
  frame: 5,
  top: 14,
};

describe("wire", () => {
  it("round-trips a frame", () => {
    const r = decodeFrame(encodeFrame(frame), 4);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.frame.from).toBe(2);
    expect(r.frame.inc).toBe(frame.inc);
    expect(r.frame.ack).toEqual(frame.ack);
    expect(r.frame.data.map((d) => [d.seq, d.flags, [...d.payload]])).toEqual([
      [11, 0, [1, 2, 3]],
      [14, 1, []],
    ]);
  });

  const bad: Array<[string, unknown, string]> = [
    ["not an array", { a: 1 }, "not-a-frame"],
    ["wrong version", [PROTOCOL + 1, 0, 1, 1, 0, null, [], 1, [], 1, 0], "bad-version"],
    ["sender out of range", [PROTOCOL, 9, 1, 1, 0, null, [], 1, [], 1, 0], "bad-header"],
    ["incarnation zero", [PROTOCOL, 0, 0, 1, 0, null, [], 1, [], 1, 0], "bad-header"],
    ["negative id", [PROTOCOL, -1, 1, 1, 0, null, [], 1, [], 1, 0], "bad-header"],
    ["string id", [PROTOCOL, "0", 1, 1, 0, null, [], 1, [], 1, 0], "bad-header"],
    ["odd ack", [PROTOCOL, 0, 1, 1, 0, [1, 2, 3], [], 1, [], 1, 0], "bad-ack"],
    ["ack without cum", [PROTOCOL, 0, 1, 1, 0, [1], [], 1, [], 1, 0], "bad-ack"],
    ["string echo", [PROTOCOL, 0, 1, 1, 0, ["1", 2], [], 1, [], 1, 0], "bad-ack"],
    ["no frame number", [PROTOCOL, 0, 1, 1, 0, null, [], 1, []], "not-a-frame"],
    ["negative top", [PROTOCOL, 0, 1, 1, 0, null, [], 1, [], 1, -1], "bad-header"],
    ["sack below cum", [PROTOCOL, 0, 1, 1, 0, [0, 5, 3, 4], [], 1, [], 1, 0], "bad-ack"],
    ["inverted sack", [PROTOCOL, 0, 1, 1, 0, [0, 5, 9, 7], [], 1, [], 1, 0], "bad-ack"],
    ["seq zero", [PROTOCOL, 0, 1, 1, 0, null, [0, 0, new Uint8Array(1)], 1, [], 1, 0], "bad-data"],
    ["bad flags", [PROTOCOL, 0, 1, 1, 0, null, [1, 7, new Uint8Array(1)], 1, [], 1, 0], "bad-data"],
    ["string payload", [PROTOCOL, 0, 1, 1, 0, null, [1, 0, "x"], 1, [], 1, 0], "bad-data"],
    ["ragged data", [PROTOCOL, 0, 1, 1, 0, null, [1, 0], 1, [], 1, 0], "bad-data"],
  ];
  for (const [name, value, err] of bad) {
    it(`rejects ${name}`, () => {
      expect(decodeFrame(pack(value), 4)).toEqual({ ok: false, error: err });
    });
  }

  it("rejects undecodable and truncated bytes without throwing", () => {
    const bytes = encodeFrame(frame);
    for (let cut = 0; cut < bytes.length; cut++) {
      const r = decodeFrame(bytes.subarray(0, cut), 4);
      expect(r.ok).toBe(false);
    }
    expect(decodeFrame(new Uint8Array([0xc1]), 4).ok).toBe(false);
  });
});
