import type { OutDatagram } from "./node-types.js";
import type { Peer } from "./peer.js";
import type { Incarnation, NodeId } from "./types.js";
import { type DataEntry, ENTRY_OVERHEAD, encodeFrame, FRAME_OVERHEAD } from "./wire.js";

/** Who we are on the wire, and where the bytes are counted. */
export interface Sender {
  id: NodeId;
  inc: Incarnation;
  maxDatagram: number;
  sent(bytes: number): void;
}

/**
 * Bundling: everything due to one peer (new and retransmitted fragments, the ack, control
 * messages, a heartbeat or an ack repeat when `heartbeat` says one is due) in as few datagrams as fit in
 * `maxDatagram`. The ack and the control messages ride on the first frame.
 */
export function bundle(
  me: Sender,
  p: Peer,
  now: number,
  heartbeat: boolean,
  out: OutDatagram[],
): void {
  const due = p.send.takeDue();
  const budget = me.maxDatagram - FRAME_OVERHEAD;
  let batch: DataEntry[] = NO_DATA;
  let size = 0;
  let ctrl = p.ctrl;
  if (ctrl.length > 0) p.ctrl = [];
  for (const e of due) {
    if (!p.send.stillNeeded(e)) continue;
    const need = e.payload.length + ENTRY_OVERHEAD;
    if (batch.length > 0 && size + need > budget) {
      flush(me, p, now, batch, ctrl, out);
      ctrl = NO_CTRL;
      batch = NO_DATA;
      size = 0;
    }
    if (batch === NO_DATA) batch = [];
    batch.push(e);
    size += need;
    p.send.sent(e, now);
  }
  if (batch.length > 0 || p.recv.ackPending || ctrl.length > 0 || heartbeat)
    flush(me, p, now, batch, ctrl, out);
}

/**
 * After a frame acknowledging new data, the ack goes out once more this much later unless
 * another frame carried it meanwhile, so a lost ack costs a small datagram instead of a
 * resent message when the sender's probe waits longer than that (its floor is 1 ms since
 * the probe change: on a sub-ms path the repeat and the probe now race; README "Probes").
 * The same bare frame follows a frame with entries when the probe would wait 3 ms or more
 * (`SendChannel.tailRepeatWanted`, README "Tail repeat").
 */
export const REACK_MS = 1;

/** Shared empty lists for frames without data or control messages (never written to). */
const NO_DATA: DataEntry[] = [];
const NO_CTRL: unknown[] = [];

/** One frame to `p`: `batch`, `ctrl`, and the ack (which rides on every frame). */
function flush(
  me: Sender,
  p: Peer,
  now: number,
  batch: DataEntry[],
  ctrl: unknown[],
  out: OutDatagram[],
): void {
  const bytes = encodeFrame({
    from: me.id,
    inc: me.inc,
    to: p.id,
    toInc: p.knownInc,
    ack: p.knownInc !== 0 || p.recv.ackPending ? p.recv.ack() : null,
    data: batch,
    base: p.send.base,
    ctrl,
    frame: p.send.frameSent(now),
    top: p.send.top,
  });
  p.recv.ackPending = false;
  // Every frame carries the ack: the repeat is due only if none follows within REACK_MS.
  // The same bare frame follows entries when the probe would wait long (tailRepeatWanted):
  // its number and `top` show a peer that lost them the gap.
  p.reackAt =
    p.recv.dataSinceAck || (batch.length > 0 && p.send.tailRepeatWanted())
      ? now + REACK_MS
      : Number.POSITIVE_INFINITY;
  p.recv.dataSinceAck = false;
  p.lastSent = now;
  out.push({ to: p.id, bytes });
  me.sent(bytes.length);
}
