import { createSocket } from "node:dgram";
import type { Argv } from "yargs";
import { loadConfig, resolveConfigPath } from "../config/config.js";
import { decodeStatusAnswer, STATUS_QUERY, type StatusAnswer } from "../status/protocol.js";
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

type Answer = StatusAnswer;

/** `rmchat status`: ask every configured node what it knows; print the table, leader and states. */
export async function runStatus(args: Record<string, unknown>): Promise<void> {
  const config = loadConfig(resolveConfigPath(args.config as string | undefined));
  const timeout = Number(args.timeout);
  if (!Number.isFinite(timeout) || timeout <= 0 || timeout > 60)
    throw new UsageError("--timeout must be in (0, 60] seconds");
  const answers = new Map<number, Answer>();
  const sock = createSocket("udp4");
  await new Promise<void>((ok) => sock.bind(0, ok));
  sock.on("message", (msg) => {
    const a = decodeStatusAnswer(msg);
    if (a) answers.set(a.id, a);
  });
  for (const h of config.hosts) sock.send(STATUS_QUERY, h.port, h.host);
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
    const v = a.view as { term: number; version: number; members: number[] };
    process.stdout.write(
      `  ${i} ${h.host}:${h.port}  ${a.role} term ${a.term}  leader ${a.leader ?? "-"}  view ${v.term}.${v.version} [${v.members.join(",")}]${a.command ? "  running the leader command" : ""}\n`,
    );
  }
  if (answers.size === 0) process.exitCode = 1;
}
