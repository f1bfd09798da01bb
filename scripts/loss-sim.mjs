// Loss repair in the deterministic simulator (no sockets, no CPU noise): 4 nodes, link delay
// 0.1–0.2 ms, every datagram dropped with probability 0.1 by the sender's fault layer (as
// `rmchat bench --drop 0.1`). Prints, over fixed seeds, a 4×200 burst's completion time at
// drop 0 and 0.1, paced 100 msg/s per node latency (remote deliveries), and messages resent
// per message lost. Usage: npm run build && node scripts/loss-sim.mjs [fifo|causal|total] [DIST]
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const mode = process.argv[2] ?? "causal";
const dist = resolve(process.argv[3] ?? new URL("../dist", import.meta.url).pathname);
const { Sim } = await import(pathToFileURL(`${dist}/runtime/sim.js`).href);
const { simBurstMs } = await import(pathToFileURL(`${dist}/runtime/sim-burst.js`).href);
const HOSTS = 4;
const link = () => ({ drop: 0, duplicate: 0, delayMinMs: 0.1, delayMaxMs: 0.2 });

/** Resends and lost data entries of all nodes so far. */
function counts(sim) {
  let resent = 0;
  let lost = 0;
  for (let n = 0; n < HOSTS; n++) {
    resent += sim.node(n).stats().retransmissions;
    lost += sim.hosts[n].faults.droppedEntries;
  }
  return { resent, lost };
}

function burst(seed, drop, count) {
  const sim = new Sim({ seed, hosts: HOSTS, ordering: mode, faults: { delay: 0, drop }, link });
  sim.run(3000);
  const before = counts(sim);
  const ms = simBurstMs(sim, count);
  const after = counts(sim);
  return {
    ms,
    resent: after.resent - before.resent,
    lost: after.lost - before.lost,
  };
}

function paced(seed) {
  const sim = new Sim({
    seed,
    hosts: HOSTS,
    ordering: mode,
    faults: { delay: 0, drop: 0.1 },
    link,
  });
  sim.run(3000);
  const before = counts(sim);
  const start = sim.history.length;
  const sentAt = new Map();
  for (let i = 0; i < 300; i++)
    for (let n = 0; n < HOSTS; n++) {
      const text = `m${n}-${i}`;
      sim.at(3000 + i * 10 + n * 2.5 + 0.3, () => {
        sentAt.set(text, sim.now);
        sim.send(n, text);
      });
    }
  sim.run(6500);
  const lat = [];
  for (const e of sim.history.slice(start))
    if (e.kind === "deliver" && e.node !== e.from && !e.history) lat.push(e.t - sentAt.get(e.text));
  const after = counts(sim);
  return { lat, resent: after.resent - before.resent, lost: after.lost - before.lost };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const seeds = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
const b0 = seeds.map((s) => burst(s, 0, 200));
const b1 = seeds.map((s) => burst(s, 0.1, 200));
const sum = (rs, k) => rs.reduce((a, r) => a + r[k], 0);
console.log(
  `${mode} burst 4×200: drop 0 median ${median(b0.map((r) => r.ms)).toFixed(2)} ms; drop 0.1 median ${median(b1.map((r) => r.ms)).toFixed(2)} ms (all: ${b1.map((r) => r.ms.toFixed(1)).join(" ")}); resent per lost ${(sum(b1, "resent") / sum(b1, "lost")).toFixed(2)}`,
);
const p = seeds.slice(0, 5).map(paced);
const lat = p.flatMap((r) => r.lat).sort((a, b) => a - b);
const q = (x) => lat[Math.floor(x * (lat.length - 1))].toFixed(2);
console.log(
  `${mode} paced 4×100/s×3s drop 0.1: ${lat.length} remote deliveries, p50 ${q(0.5)} p90 ${q(0.9)} p99 ${q(0.99)} max ${q(1)} ms; resent per lost ${(sum(p, "resent") / sum(p, "lost")).toFixed(2)}`,
);
