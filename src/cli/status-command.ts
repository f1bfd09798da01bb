import { randomInt } from "node:crypto";
import { createSocket } from "node:dgram";
import type { Argv } from "yargs";
import { loadConfig, resolveConfigPath } from "../config/config.js";
import { CLIENT_ID, Trust } from "../runtime/trust.js";
import { STATUS_QUERY } from "../runtime/udp.js";
import { UsageError } from "./errors.js";

export function statusBuilder(y: Argv) {
  return y
    .option("config", {
      type: "string",
      describe: "config file (default: $RMCHAT_CONFIG, else config/default.json)",
    })
    .option("timeout", { type: "number", default: 1, describe: "seconds to wait for answers" })
    .option("json", {
      type: "boolean",
      default: false,
      describe: "print the answers as one JSON array",
    });
}

type Answer = Record<string, unknown> & { id: number };

/** `rmchat status`: ask every configured node what it knows; print the table, leader and states. */
export async function runStatus(args: Record<string, unknown>): Promise<void> {
  const config = loadConfig(resolveConfigPath(args.config as string | undefined));
  const timeout = Number(args.timeout);
  if (!Number.isFinite(timeout) || timeout <= 0 || timeout > 60)
    throw new UsageError("--timeout must be in (0, 60] seconds");
  const answers = new Map<number, Answer>();
  const sock = createSocket("udp4");
  await new Promise<void>((ok) => sock.bind(0, ok));
  // A random 96-bit nonce (48-bit epoch, 48-bit counter start) under the status client's own
  // subkey: a handful of queries per run, so a repeat is out of reach.
  const trust = new Trust({
    cluster: config.cluster,
    keys: config.keys,
    self: CLIENT_ID,
    epoch: randomInt(1, 2 ** 47),
    counterStart: randomInt(1, 2 ** 47),
  });
  sock.on("message", (msg) => {
    const o = trust.open(msg, undefined);
    if (typeof o === "string" || o.kind !== "answer") return;
    try {
      const a = JSON.parse(Buffer.from(o.payload).toString("utf8")) as Answer;
      if (typeof a.id !== "number") return;
      // Sealed: the answer must come from the host it speaks for.
      if (o.sender !== undefined && o.sender !== a.id) return;
      answers.set(a.id, a);
    } catch {
      // not an answer of ours
    }
  });
  // Nodes never answer with more bytes than the query had: pad it to room for the answer.
  const size = Math.min(60_000, 1200 + 160 * config.hosts.length);
  const query = Buffer.alloc(size - trust.overhead);
  STATUS_QUERY.copy(query);
  for (const h of config.hosts) sock.send(trust.wrap("query", undefined, query), h.port, h.host);
  await new Promise((r) => setTimeout(r, timeout * 1000));
  sock.close();
  const rows = config.hosts.map((h, i) => ({ i, h, a: answers.get(i) }));
  if (args.json === true) {
    process.stdout.write(
      `${JSON.stringify(rows.map((r) => r.a ?? { id: r.i, answered: false }))}\n`,
    );
    return;
  }
  const leaders = new Set(
    rows.map((r) => r.a?.leader).filter((l) => l !== undefined && l !== null),
  );
  const anyTable = rows.find((r) => {
    const t = r.a?.table;
    return Array.isArray(t) && t.length > 0;
  })?.a;
  process.stdout.write(
    `leader: ${leaders.size === 1 ? `node ${[...leaders][0]}` : leaders.size === 0 ? "none" : `disagreement (${[...leaders].join(", ")})`}\n`,
  );
  if (anyTable) {
    const ep = anyTable.epoch as { term: number; version: number };
    process.stdout.write(`table (epoch ${ep.term}.${ep.version}, from node ${anyTable.id}):\n`);
    for (const e of anyTable.table as Array<{ name: string; host: string; id: number }>) {
      process.stdout.write(`  ${e.host} ${e.name}  # node ${e.id}\n`);
    }
  }
  process.stdout.write("nodes:\n");
  for (const { i, h, a } of rows) {
    if (!a) {
      process.stdout.write(`  ${i} ${h.host}:${h.port}  no answer\n`);
      continue;
    }
    const v = a.view as { term: number; version: number; members: number[] } | undefined;
    if (!v) {
      process.stdout.write(`  ${i} ${h.host}:${h.port}  answered (truncated)\n`);
      continue;
    }
    process.stdout.write(
      `  ${i} ${h.host}:${h.port}  ${a.role} term ${a.term}  leader ${a.leader ?? "-"}  view ${v.term}.${v.version} [${v.members.join(",")}]${a.command ? "  running the leader command" : ""}\n`,
    );
  }
  if (answers.size === 0) process.exitCode = 1;
}
