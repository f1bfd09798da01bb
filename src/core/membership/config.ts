/** Timings of failure detection and election, ms. Documented in the README ("membership"). */
export interface MembershipConfig {
  /** Every peer gets a frame from us at least this often (data, ack or empty heartbeat). */
  heartbeatMs: number;
  /** Silence after which we ask `indirectProbes` other members to probe the peer for us. */
  probeAfterMs: number;
  /** Silence after which the peer is suspected (any frame from it refutes). */
  suspectAfterMs: number;
  /** Silence after which the peer is declared dead and leaves the view. */
  deadAfterMs: number;
  /** How many members relay an indirect probe (SWIM ping-req). */
  indirectProbes: number;
  /** A dead or never-seen peer still gets a heartbeat this often, so partitions heal. */
  deadProbeMs: number;
  /** Followers start an election after hearing nothing from a leader for a random time in [t, 2t]. */
  electionTimeoutMs: number;
  /** Leader lease; must stay below electionTimeoutMs (clock drift margin). */
  leaseMs: number;
  /** Votes needed to become leader; default a majority of the configured hosts. */
  quorum: number;
  /**
   * Own lag: silence is judged only up to the last instant this process had read everything
   * sent to it (the shell reports it), but never more than this far behind the clock.
   */
  maxOwnLagMs: number;
}

export function defaultMembership(hostCount: number): MembershipConfig {
  return {
    heartbeatMs: 100,
    probeAfterMs: 350,
    suspectAfterMs: 500,
    deadAfterMs: 800,
    indirectProbes: 3,
    deadProbeMs: 1000,
    electionTimeoutMs: 500,
    leaseMs: 400,
    quorum: Math.floor(hostCount / 2) + 1,
    maxOwnLagMs: 5000,
  };
}

/**
 * The user's injected delay slows every datagram by up to 2·delay one way: widen every
 * timeout by two worst-case one-way delays so the membership does not flap under it.
 */
export function scaleForDelay(cfg: MembershipConfig, delaySeconds: number): MembershipConfig {
  const extra = 4 * delaySeconds * 1000;
  if (extra <= 0) return cfg;
  return {
    ...cfg,
    probeAfterMs: cfg.probeAfterMs + extra,
    suspectAfterMs: cfg.suspectAfterMs + extra,
    deadAfterMs: cfg.deadAfterMs + extra,
    electionTimeoutMs: cfg.electionTimeoutMs + extra,
    leaseMs: cfg.leaseMs + extra,
  };
}
