/**
 * The raw-UDP chat `rmchat bench` compares the CLI with: each stdin line goes out as one UDP
 * datagram to every other node, each datagram received is printed as `<id> says: <text>`.
 * No acknowledgement, no retransmission, no order: the floor for a line from stdin at one
 * process to stdout at another over the same pipes.
 *
 * Usage: node raw-chat.js ID PORT0,PORT1,… (127.0.0.1); prints `ready` on stderr once bound.
 */
import { createSocket } from "node:dgram";
import { createInterface } from "node:readline";

const id = Number(process.argv[2]);
const ports = (process.argv[3] ?? "").split(",").map(Number);
if (!Number.isInteger(id) || id < 0 || id >= ports.length || ports.some((p) => !(p > 0))) {
  process.stderr.write("usage: raw-chat ID PORT0,PORT1,…\n");
  process.exit(2);
}
const sock = createSocket("udp4");
sock.on("message", (msg) => {
  const s = msg.toString("utf8");
  const comma = s.indexOf(",");
  process.stdout.write(`${s.slice(0, comma)} says: ${s.slice(comma + 1)}\n`);
});
sock.bind(ports[id], "127.0.0.1", () => {
  process.stderr.write("ready\n");
  const rl = createInterface({ input: process.stdin, terminal: false });
  rl.on("line", (line) => {
    const b = Buffer.from(`${id},${line}`);
    ports.forEach((p, i) => {
      if (i !== id) sock.send(b, p, "127.0.0.1");
    });
  });
});
process.on("SIGTERM", () => process.exit(0));
