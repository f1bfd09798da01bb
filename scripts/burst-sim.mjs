// A burst in the deterministic simulator, counted (no sockets, no CPU noise from other
// processes): N nodes each send COUNT messages at once (in chunks of 256, as `rmchat bench`
// hands them), link delay 0.1–0.2 ms, drop 0. Prints per ordering: datagrams and UDP bytes per
// message multicast, and the simulator process's CPU µs per delivery (all nodes together).
// Usage: npm run build && node scripts/burst-sim.mjs [COUNT] [NODES] [orderings…] [DIST=dir]
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const args = process.argv.slice(2);
const distArg = args.find((a) => a.startsWith("DIST="));
const rest = args.filter((a) => !a.startsWith("DIST="));
const count = Number(rest[0] ?? 5000);
const hosts = Number(rest[1] ?? 4);
const modes = rest.length > 2 ? rest.slice(2) : ["causal", "total"];
const dist = resolve(distArg ? distArg.slice(5) : new URL("../dist", import.meta.url).pathname);
const { Sim } = await import(pathToFileURL(`${dist}/runtime/sim.js`).href);
const link = () => ({ drop: 0, duplicate: 0, delayMinMs: 0.1, delayMaxMs: 0.2 });

function totals(sim) {
  let dgrams = 0;
  let bytes = 0;
  for (let n = 0; n < hosts; n++) {
    const s = sim.node(n).stats();
    dgrams += s.datagramsSent;
    bytes += s.bytesSent;
  }
  return { dgrams, bytes };
}

function burst(mode, seed) {
  const sim = new Sim({ seed, hosts, ordering: mode, faults: { delay: 0, drop: 0 }, link });
  sim.run(3000);
  const before = totals(sim);
  const t0 = sim.now;
  let scanned = sim.history.length;
  const want = hosts * hosts * count;
  let got = 0;
  let last = t0;
  let sent = 0;
  const cpu0 = process.cpuUsage();
  for (let t = t0 + 0.25; got < want && t < t0 + 60_000; t += 0.25) {
    // Every node hands over up to 256 more messages each quarter millisecond.
    for (let n = 0; n < hosts; n++)
      for (let k = 0; k < 256 && sent < hosts * count; k++) {
        const i = Math.floor(sent / hosts);
        if (sim.send(n, `m${n}-${i}-${"x".repeat(90)}`)) sent++;
        else break;
      }
    sim.run(t);
    for (; scanned < sim.history.length; scanned++) {
      const e = sim.history[scanned];
      if (e.kind === "deliver" && !e.history) {
        got++;
        last = Math.max(last, e.t);
      }
    }
  }
  const cpu = process.cpuUsage(cpu0);
  const after = totals(sim);
  const msgs = hosts * count;
  return {
    done: got >= want,
    ms: last - t0,
    dgramPerMsg: (after.dgrams - before.dgrams) / msgs,
    bytesPerMsg: (after.bytes - before.bytes) / msgs,
    usPerDlv: (cpu.user + cpu.system) / got,
  };
}

const res = {};
for (const mode of modes) {
  const rows = [1, 2, 3].map((seed) => burst(mode, seed));
  const med = (k) => rows.map((r) => r[k]).sort((a, b) => a - b)[1];
  res[mode] = {
    done: rows.every((r) => r.done),
    ms: med("ms"),
    dgram: med("dgramPerMsg"),
    bytes: med("bytesPerMsg"),
    us: med("usPerDlv"),
  };
  const r = res[mode];
  console.log(
    `${hosts}×${count} ${mode.padEnd(6)} ${r.done ? "ok  " : "INCOMPLETE"} virtual ${r.ms.toFixed(1)} ms  dgram/msg ${r.dgram.toFixed(3)}  B/msg ${r.bytes.toFixed(0)}  sim CPU µs/dlv ${r.us.toFixed(2)}`,
  );
}
if (res.total && res.causal)
  console.log(
    `total/causal: CPU per delivery ${(res.total.us / res.causal.us).toFixed(2)}×, dgram/msg ${(res.total.dgram / res.causal.dgram).toFixed(2)}×`,
  );
