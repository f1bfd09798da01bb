import { describe, expect, it } from "vitest";
import { encodeFrame } from "../../src/core/wire.js";
import {
  CLIENT_ID,
  type OpenResult,
  PLAIN_HEADER,
  REPLAY_WINDOW,
  ReplayWindow,
  SEAL_OVERHEAD,
  Trust,
} from "../../src/runtime/trust.js";
import { exposureWarning } from "../../src/runtime/udp.js";

const K1 = new Uint8Array(32).fill(1);
const K2 = new Uint8Array(32).fill(2);
const payload = new Uint8Array([0x99, 1, 2, 3, 4, 5, 6, 7, 8, 9]);

function pair(keysA: Uint8Array[], keysB = keysA, clusterB = "rmchat") {
  const a = new Trust({ cluster: "rmchat", keys: keysA, self: 0, epoch: 1000 });
  const b = new Trust({ cluster: clusterB, keys: keysB, self: 1, epoch: 2000 });
  return { a, b };
}

/** a → b until both know each other's epoch (the first frame of each side is unbound). */
function handshake(a: Trust, b: Trust): void {
  expect(b.open(a.wrap("frame", 1, payload), 0)).toBe("unbound");
  expect(typeof a.open(b.wrap("frame", 0, payload), 1)).toBe("object");
}

const opened = (r: OpenResult) => {
  if (typeof r === "string") throw new Error(`dropped: ${r}`);
  return r;
};

describe("trust layer: envelope", () => {
  it("plain envelopes carry the cluster name; another cluster is foreign", () => {
    const { a, b } = pair([], [], "other");
    const w = a.wrap("frame", 1, payload);
    expect(w.length).toBe(payload.length + PLAIN_HEADER);
    expect(b.open(w, 0)).toBe("foreign");
    expect(b.dropped.foreign).toBe(1);
    const same = new Trust({ cluster: "rmchat", keys: [], self: 1, epoch: 1 });
    const o = opened(same.open(w, 0));
    expect([...o.payload]).toEqual([...payload]);
    // A bare frame (the protocol before envelopes) is foreign too.
    expect(same.open(payload, 0)).toBe("foreign");
  });

  it("sealed: opens with the same ring, hides the payload, adds SEAL_OVERHEAD bytes", () => {
    const { a, b } = pair([K1]);
    handshake(a, b);
    const w = a.wrap("frame", 1, payload);
    expect(w.length).toBe(payload.length + SEAL_OVERHEAD);
    expect(Buffer.from(w).includes(Buffer.from(payload.subarray(1)))).toBe(false);
    expect([...opened(b.open(w, 0)).payload]).toEqual([...payload]);
  });

  it("forged, truncated, bit-flipped and wrong-key datagrams are dropped as auth, never thrown", () => {
    const { a, b } = pair([K1]);
    handshake(a, b);
    const good = a.wrap("frame", 1, payload);
    const before = b.dropped.auth;
    let n = 0;
    for (let i = 6; i < good.length; i++) {
      for (const bit of [0x01, 0x80]) {
        const bad = Uint8Array.from(good);
        bad[i] = (bad[i] as number) ^ bit;
        expect(b.open(bad, 0)).toBe("auth");
        n++;
      }
    }
    for (const len of [0, 3, PLAIN_HEADER, SEAL_OVERHEAD - 1, good.length - 1]) {
      const r = b.open(good.subarray(0, len), 0);
      expect(r === "auth" || r === "foreign").toBe(true);
    }
    // A forgery: right header, made-up ciphertext and tag.
    const forged = Uint8Array.from(good);
    forged.fill(7, 30);
    expect(b.open(forged, 0)).toBe("auth");
    // Sealed by a stranger with another key; a plain envelope into a sealed channel.
    const stranger = new Trust({ cluster: "rmchat", keys: [K2], self: 0, epoch: 1000 });
    expect(b.open(stranger.wrap("frame", 1, payload), 0)).toBe("auth");
    const plain = new Trust({ cluster: "rmchat", keys: [], self: 0, epoch: 1000 });
    expect(b.open(plain.wrap("frame", 1, payload), 0)).toBe("auth");
    // The source address decides who speaks: node 0's datagram from node 2's address.
    expect(b.open(a.wrap("frame", 1, payload), 2)).toBe("auth");
    expect(b.dropped.auth - before).toBe(n + 3 + 1 + 2 + 1);
    expect(b.dropped.foreign).toBe(2); // shorter than any envelope
    // The untouched datagram still opens: nothing above consumed its counter.
    expect(typeof b.open(good, 0)).toBe("object");
  });

  it("replays are dropped: the same datagram twice, an older life of the sender, a late one", () => {
    const { a, b } = pair([K1]);
    handshake(a, b);
    const first = a.wrap("frame", 1, payload);
    const second = a.wrap("frame", 1, payload);
    expect(typeof b.open(second, 0)).toBe("object");
    expect(typeof b.open(first, 0)).toBe("object"); // reordered, not replayed
    expect(b.open(first, 0)).toBe("replay");
    expect(b.open(second, 0)).toBe("replay");
    // The sender restarts (larger epoch): what its old life sent is refused from then on.
    const old = a.wrap("frame", 1, payload);
    const a2 = new Trust({ cluster: "rmchat", keys: [K1], self: 0, epoch: 1001 });
    expect(b.open(a2.wrap("frame", 1, payload), 0)).toBe("unbound");
    expect(b.open(old, 0)).toBe("replay");
    expect(b.dropped.replay).toBe(3);
  });

  it("a new life of the receiver lets nothing captured before it through", () => {
    const { a, b } = pair([K1]);
    const captured = [a.wrap("frame", 1, payload)]; // unbound
    handshake(a, b);
    for (let i = 0; i < 5; i++) captured.push(a.wrap("frame", 1, payload)); // bound to b's life
    for (const c of captured.slice(1)) expect(typeof b.open(c, 0)).toBe("object");
    const b2 = new Trust({ cluster: "rmchat", keys: [K1], self: 1, epoch: 2001 });
    const results = captured.map((c) => b2.open(c, 0));
    expect(results).toEqual(["unbound", "replay", "replay", "replay", "replay", "replay"]);
    // The new life learned a's epoch; a learns b2's from b2's first frame and binds to it.
    expect(b2.peerEpoch(0)).toBe(1000);
    expect(typeof a.open(b2.wrap("frame", 0, payload), 1)).toBe("object");
    expect(typeof b2.open(a.wrap("frame", 1, payload), 0)).toBe("object");
  });

  it("rotation: a ring opens under any of its keys and seals under the first", () => {
    const { a, b } = pair([K1], [K2, K1]);
    // a seals with K1, b with K2: a opens b's only once it holds K2.
    a.setKeys([K1, K2]);
    handshake(a, b);
    expect(typeof b.open(a.wrap("frame", 1, payload), 0)).toBe("object");
    expect(typeof a.open(b.wrap("frame", 0, payload), 1)).toBe("object");
    const { a: s, b: t } = pair([K1], [K2, K1]);
    expect(t.open(s.wrap("frame", 1, payload), 0)).toBe("unbound");
    expect(s.open(t.wrap("frame", 0, payload), 1)).toBe("auth"); // stale ring: K2 missing
    expect(() => s.setKeys([])).toThrow();
  });

  it("status queries open without a window; answers are checked against replays", () => {
    const node = new Trust({ cluster: "rmchat", keys: [K1], self: 0, epoch: 5 });
    const client = new Trust({
      cluster: "rmchat",
      keys: [K1],
      self: CLIENT_ID,
      epoch: 99,
      counterStart: 12345,
    });
    const q = client.wrap("query", undefined, payload);
    const o = opened(node.open(q, undefined));
    expect(o.kind).toBe("query");
    expect(o.sender).toBe(CLIENT_ID);
    const ans = node.wrap("answer", undefined, payload);
    expect(opened(client.open(ans, undefined)).sender).toBe(0);
    expect(client.open(ans, undefined)).toBe("replay");
  });

  it("the replay window accepts reordering within REPLAY_WINDOW and nothing twice", () => {
    const w = new ReplayWindow();
    expect(w.accept(1, 5)).toBe(true);
    expect(w.accept(1, 5)).toBe(false);
    expect(w.accept(1, 3)).toBe(true);
    expect(w.accept(1, 3)).toBe(false);
    expect(w.accept(1, 5 + REPLAY_WINDOW)).toBe(true);
    expect(w.accept(1, 5)).toBe(false); // fell out of the window
    expect(w.accept(1, 6)).toBe(true);
    expect(w.accept(1, 6 + 3 * REPLAY_WINDOW)).toBe(true);
    expect(w.accept(1, 6 + 2 * REPLAY_WINDOW)).toBe(false);
    expect(w.accept(1, 7 + 3 * REPLAY_WINDOW)).toBe(true);
    expect(w.accept(0, 1 + 4 * REPLAY_WINDOW)).toBe(false); // an older life
  });

  it("frames of the core survive the envelope unchanged", () => {
    const { a, b } = pair([K1]);
    handshake(a, b);
    const f = encodeFrame({
      from: 0,
      inc: 7,
      to: 1,
      toInc: 9,
      ack: null,
      data: [{ seq: 1, flags: 0, payload: new Uint8Array(3000).fill(5) }],
      base: 1,
      ctrl: [],
      frame: 1,
      top: 0,
    });
    expect(Buffer.compare(opened(b.open(a.wrap("frame", 1, f), 0)).payload, f)).toBe(0);
  });
});

describe("exposure warning", () => {
  it("warns for a keyless node on a non-loopback address only", () => {
    expect(exposureWarning("10.200.0.1", 16400, false)).toMatch(/without keys/);
    expect(exposureWarning("0.0.0.0", 16400, false)).toMatch(/without keys/);
    expect(exposureWarning("10.200.0.1", 16400, true)).toBeUndefined();
    expect(exposureWarning("127.0.0.1", 16400, false)).toBeUndefined();
    expect(exposureWarning("::1", 16400, false)).toBeUndefined();
    expect(exposureWarning("fd00::1", 16400, false)).toMatch(
      /^bound to \[fd00::1\]:16400 without keys/,
    );
    expect(exposureWarning("127.0.5.9", 16400, false)).toBeUndefined();
  });
});
