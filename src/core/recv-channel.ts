import type { ProtocolLimits, Seq } from "./types.js";
import { type Ack, FLAG_MORE, MAX_SACK_RANGES } from "./wire.js";

/** Room above maxMessageBytes for the protocol's own wrapping (append, relay, vector clock). */
const PROTOCOL_SLACK = 8192;

export type RecvOutcome = "new" | "duplicate" | "out-of-window";

/**
 * Receiver half of the reliable channel from one peer: duplicate suppression,
 * a bounded out-of-order buffer, in-order reassembly of fragments, and the
 * cumulative + selective acknowledgement to send back.
 */
export class RecvChannel {
  private cum: Seq = 0;
  private readonly ooo = new Map<Seq, { flags: number; payload: Uint8Array }>();
  /** The selective-ack ranges of `ooo`, kept until it changes (read-only for callers). */
  private sacks: Array<[Seq, Seq]> | undefined;
  private parts: Uint8Array[] = [];
  private partsBytes = 0;
  private discarding = false;
  /** An acknowledgement should go out at the next drain. */
  ackPending = false;
  /** Data arrived since the last frame that carried our ack (it is then worth repeating). */
  dataSinceAck = false;
  /** Highest frame number received (acks echo it), and the highest `top` we reported a gap below. */
  private echo = 0;
  private nakTop: Seq = 0;
  /**
   * The first frame whose entries flow control refused (0: none since entries were last
   * taken). The echo stays below it: those entries are not lost, and the sender must not
   * resend them at every frame it sends us while we refuse; its timer retries them.
   */
  private refusedFrom = 0;
  duplicates = 0;
  oversized = 0;

  constructor(private readonly limits: ProtocolLimits) {}

  /** Accept one entry; complete messages are appended to `out` in order. */
  receive(seq: Seq, flags: number, payload: Uint8Array, out: Uint8Array[]): RecvOutcome {
    this.ackPending = true;
    this.dataSinceAck = true;
    if (seq <= this.cum || this.ooo.has(seq)) {
      this.duplicates++;
      return "duplicate";
    }
    if (seq > this.cum + this.limits.window) return "out-of-window";
    if (seq !== this.cum + 1) {
      this.ooo.set(seq, { flags, payload });
      this.sacks = undefined;
      return "new";
    }
    this.accept(flags, payload, out);
    this.drain(out);
    return "new";
  }

  private accept(flags: number, payload: Uint8Array, out: Uint8Array[]): void {
    this.cum++;
    if (!this.discarding) {
      if (this.partsBytes + payload.length > this.limits.maxMessageBytes + PROTOCOL_SLACK) {
        // A peer sent a message over our limit: drop it whole, keep the channel going.
        this.discarding = true;
        this.oversized++;
        this.parts = [];
        this.partsBytes = 0;
      } else {
        this.parts.push(payload);
        this.partsBytes += payload.length;
      }
    }
    if ((flags & FLAG_MORE) !== 0) return;
    if (!this.discarding) out.push(concat(this.parts, this.partsBytes));
    this.discarding = false;
    this.parts = [];
    this.partsBytes = 0;
  }

  /**
   * The sender's base: it holds nothing below `base` for us any more. Returns true when
   * that skips entries we never received (the sender abandoned them: we were out of its view).
   */
  skipTo(base: Seq, out: Uint8Array[]): boolean {
    if (base <= this.cum + 1) return false;
    for (const k of this.ooo.keys()) if (k < base) this.ooo.delete(k);
    this.sacks = undefined;
    this.cum = base - 1;
    this.parts = [];
    this.partsBytes = 0;
    this.discarding = false;
    this.ackPending = true;
    this.drain(out);
    return true;
  }

  private drain(out: Uint8Array[]): void {
    for (;;) {
      const next = this.ooo.get(this.cum + 1);
      if (!next) break;
      this.ooo.delete(this.cum + 1);
      this.sacks = undefined;
      this.accept(next.flags, next.payload, out);
    }
  }

  /**
   * A frame arrived (after its entries were taken): remember its number for the echo, and
   * when the sender says it sent up to `top` and we lack `top`, acknowledge at once (a NAK):
   * the sender learns from the echo that what it sent before this frame is lost, without
   * waiting for a timer. Once per new `top`, so frames without news cause no ack. Also at
   * once when a frame number was skipped (a frame lost on the way) while we lack something
   * below `top`: that finds a lost resend, or a lost tail whose `top` we saw already, from
   * the sender's next frame (a bare one follows its entries after a burst: tailRepeatWanted).
   * `entries`: whether the frame carried entries and flow control took or refused them.
   */
  noteFrame(frame: number, top: Seq, entries: "none" | "taken" | "refused" = "none"): void {
    if (entries === "refused") {
      if (this.refusedFrom === 0 || frame < this.refusedFrom) this.refusedFrom = frame;
      return;
    }
    if (entries === "taken") this.refusedFrom = 0;
    const skipped = frame > this.echo + 1;
    if (frame > this.echo) this.echo = frame;
    if (top > this.cum && top > this.nakTop && !this.ooo.has(top)) {
      this.nakTop = top;
      this.ackPending = true;
    } else if (skipped && top > this.cum) {
      this.ackPending = true;
    }
  }

  ack(): Ack {
    this.sacks ??= this.sackRanges();
    const echo = this.refusedFrom !== 0 ? Math.min(this.echo, this.refusedFrom - 1) : this.echo;
    return { echo, cum: this.cum, sacks: this.sacks };
  }

  /**
   * The first MAX_SACK_RANGES maximal runs of held sequence numbers, ascending. Every held
   * number lies in (cum, cum + window], so walking up from cum costs at most a window.
   */
  private sackRanges(): Array<[Seq, Seq]> {
    const sacks: Array<[Seq, Seq]> = [];
    const ooo = this.ooo;
    let left = ooo.size;
    let k = this.cum + 1;
    while (left > 0 && sacks.length < MAX_SACK_RANGES) {
      while (!ooo.has(k)) k++;
      const start = k;
      while (ooo.has(k)) {
        k++;
        left--;
      }
      sacks.push([start, k - 1]);
    }
    return sacks;
  }

  /** Entries held out of order (for stats and boundedness checks). */
  get buffered(): number {
    return this.ooo.size;
  }

  reset(): void {
    this.cum = 0;
    this.echo = 0;
    this.nakTop = 0;
    this.refusedFrom = 0;
    this.ooo.clear();
    this.sacks = undefined;
    this.parts = [];
    this.partsBytes = 0;
    this.discarding = false;
    this.ackPending = false;
    this.dataSinceAck = false;
  }
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
