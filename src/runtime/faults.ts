import type { Rng } from "./rng.js";

/** The user's fault injection: `rmchat <id> <delay> <drop>`. */
export interface FaultSettings {
  /** Mean one-way delay in seconds; each datagram waits uniformly in [0, 2·delay]. */
  delay: number;
  /** Probability in [0, 1) that an outgoing datagram is dropped. */
  drop: number;
}

/**
 * Sits between the core and either shell: every outgoing datagram (data, acks and
 * retransmissions alike) is dropped with probability `drop`, otherwise delayed.
 */
export class FaultInjector {
  dropped = 0;
  /** Data entries (messages, relays, positions) the dropped datagrams carried (see UdpRuntime). */
  droppedEntries = 0;

  constructor(
    public settings: FaultSettings,
    private readonly rng: Rng,
  ) {}

  /** Delay in ms before the datagram leaves, or undefined when it is dropped. */
  plan(): number | undefined {
    const { delay, drop } = this.settings;
    if (drop > 0 && this.rng() < drop) {
      this.dropped++;
      return undefined;
    }
    if (delay <= 0) return 0;
    return this.rng() * 2 * delay * 1000;
  }
}

export function validateFaults(delay: number, drop: number): string | undefined {
  if (!Number.isFinite(delay) || delay < 0)
    return `delay must be a number of seconds >= 0 (got ${delay})`;
  if (!Number.isFinite(drop) || drop < 0 || drop >= 1)
    return `drop must be a probability in [0, 1) (got ${drop})`;
  return undefined;
}
