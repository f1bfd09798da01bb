// A burst driven like the UDP shell, without sockets: N RmNodes in this process; each turn,
// every node reads every datagram sent to it since its last turn, then hands over up to 256
// own messages (the bench's burst), then drains once (one bundle per peer per turn). Nothing
// is lost or delayed beyond a turn. Counts per ordering: turns to finish, datagrams and bytes
// per message multicast, and this process's CPU µs per delivery (all nodes together; the
// bench's 4 node processes share the machine's cores, so this is what bounds its msg/s).
// READ=k: a node reads at most k datagrams per turn (the rest wait for its next turns), which
// makes turns small and many, as on a busy machine (default: all).
// Usage: npm run build && node scripts/burst-turns.mjs [COUNT] [NODES] [REPEAT] [orderings…] [DIST=dir] [READ=k]
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const args = process.argv.slice(2);
const distArg = args.find((a) => a.startsWith("DIST="));
const readArg = args.find((a) => a.startsWith("READ="));
const readMax = readArg ? Number(readArg.slice(5)) : Number.POSITIVE_INFINITY;
const rest = args.filter((a) => !a.startsWith("DIST=") && !a.startsWith("READ="));
const count = Number(rest[0] ?? 5000);
const hosts = Number(rest[1] ?? 4);
const repeat = Number(rest[2] ?? 3);
const modes = rest.length > 3 ? rest.slice(3) : ["causal", "total"];
const dist = resolve(distArg ? distArg.slice(5) : new URL("../dist", import.meta.url).pathname);
const { RmNode } = await import(pathToFileURL(`${dist}/core/node.js`).href);
const { DEFAULT_LIMITS } = await import(pathToFileURL(`${dist}/core/types.js`).href);

function burst(ordering, seed) {
  let t = 0;
  let s = seed;
  const random = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
  const nodes = [];
  for (let i = 0; i < hosts; i++)
    nodes.push(
      new RmNode({
        id: i,
        hostCount: hosts,
        incarnation: 1000 + i,
        ordering,
        limits: DEFAULT_LIMITS,
        random,
        now: 0,
      }),
    );
  let inbox = nodes.map(() => []);
  let later = nodes.map(() => []);
  let delivered = 0;
  let dgrams = 0;
  let bytes = 0;
  const turn = (sending) => {
    const next = nodes.map(() => []);
    for (let i = 0; i < hosts; i++) {
      const n = nodes[i];
      const q = inbox[i];
      const k = Math.min(q.length, readMax);
      for (let j = 0; j < k; j++) n.receive(t, q[j].from, q[j].bytes);
      next[i] = q.slice(k);
      if (sending) sending(i, n);
      const w = n.nextWake();
      if (w !== undefined && w <= t) n.tick(t);
      const r = n.drain(t);
      for (const d of r.datagrams) {
        later[d.to].push({ from: i, bytes: d.bytes });
        dgrams++;
        bytes += d.bytes.length;
      }
      for (const e of r.events) if (e.type === "deliver" && !e.history) delivered++;
    }
    for (let i = 0; i < hosts; i++) for (const d of later[i]) next[i].push(d);
    later = nodes.map(() => []);
    inbox = next;
  };
  // Settle: a leader and a view with everyone (virtual ms go by 1 per turn).
  let ready = false;
  for (let k = 0; k < 5000 && !ready; k++) {
    t += 1;
    turn();
    ready =
      nodes.every((n) => n.status().view.members.length === hosts) &&
      nodes.some((n) => n.status().role === "leader");
  }
  if (!ready) throw new Error(`${ordering}: no view with every member`);
  for (let k = 0; k < 50; k++) {
    t += 1;
    turn();
  }
  delivered = 0;
  dgrams = 0;
  bytes = 0;
  const sent = nodes.map(() => 0);
  const want = hosts * hosts * count;
  let turns = 0;
  const cpu0 = process.cpuUsage();
  while (delivered < want && turns < 1_000_000) {
    t += 0.05; // 50 µs of virtual time per turn
    turns++;
    turn((i, n) => {
      for (let k = 0; k < 256 && sent[i] < count; k++) {
        if (!n.send(t, `m${i}-${sent[i]}-${"x".repeat(90)}`).ok) break;
        sent[i]++;
      }
    });
  }
  const cpu = process.cpuUsage(cpu0);
  return {
    done: delivered >= want,
    turns,
    dgram: dgrams / (hosts * count),
    bytes: bytes / (hosts * count),
    us: (cpu.user + cpu.system) / delivered,
  };
}

const res = {};
for (let r = 0; r < repeat; r++)
  for (const mode of modes) {
    const x = burst(mode, 7 + r);
    if (!res[mode]) res[mode] = [];
    res[mode].push(x);
  }
for (const mode of modes) {
  const rows = res[mode];
  const med = (k) => rows.map((x) => x[k]).sort((a, b) => a - b)[Math.floor(rows.length / 2)];
  console.log(
    `${hosts}×${count} ${mode.padEnd(6)} ${rows.every((x) => x.done) ? "ok" : "INCOMPLETE"}  turns ${med("turns")}  dgram/msg ${med("dgram").toFixed(3)}  B/msg ${med("bytes").toFixed(0)}  CPU µs/dlv ${med("us").toFixed(2)} (median of ${rows.length})`,
  );
}
if (res.total && res.causal) {
  const med = (m) => res[m].map((x) => x.us).sort((a, b) => a - b)[Math.floor(res[m].length / 2)];
  console.log(
    `CPU per delivery total/causal ${(med("total") / med("causal")).toFixed(2)}× (msg/s ratio ≈ ${(med("causal") / med("total")).toFixed(2)}×)`,
  );
}
