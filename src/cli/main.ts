import { randomBytes } from "node:crypto";
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { ConfigError } from "../config/config.js";
import { StartError } from "../runtime/udp.js";
import { agentBuilder, runAgent } from "./agent-command.js";
import { benchCommand } from "./bench-command.js";
import { chatBuilder, runChat } from "./chat-command.js";
import { fail, UsageError } from "./errors.js";
import { runStatus, statusBuilder } from "./status-command.js";

function handleError(e: unknown): never {
  if (e instanceof UsageError || e instanceof ConfigError || e instanceof StartError)
    fail(e.message, 2);
  const msg = e instanceof Error ? e.message : String(e);
  if (process.env.RMCHAT_DEBUG) process.stderr.write(`${(e as Error)?.stack ?? msg}\n`);
  fail(`internal error: ${msg} (set RMCHAT_DEBUG=1 for details)`, 1);
}

process.on("uncaughtException", handleError);
process.on("unhandledRejection", handleError);

export async function main(argv: string[]): Promise<void> {
  await yargs(argv)
    .scriptName("rmchat")
    .usage("$0 <id> [delay] [drop]  — reliable multicast chat node")
    .command(
      "$0 <id> [delay] [drop]",
      "run chat node <id> (TUI on a terminal, line mode otherwise)",
      chatBuilder,
      async (a) => {
        await runChat(a as unknown as Record<string, unknown>);
      },
    )
    .command(benchCommand)
    .command(
      "agent <id>",
      "cluster agent: host table NAME-0..n (NAME-0 = leader), hosts file, leader-only command",
      agentBuilder,
      async (a) => {
        await runAgent(a as unknown as Record<string, unknown>);
      },
    )
    .command(
      "keygen",
      'print a new random key (base64, 32 bytes) for the config\'s "keys" or a key file',
      (y) => y,
      () => {
        process.stdout.write(`${randomBytes(32).toString("base64")}\n`);
      },
    )
    .command(
      "status",
      "ask the running nodes and agents: table, leader, term, each member's state",
      statusBuilder,
      async (a) => {
        await runStatus(a as unknown as Record<string, unknown>);
      },
    )
    .strict()
    .help()
    .version(false)
    .wrap(Math.min(100, process.stdout.columns ?? 100))
    .fail((msg, err) => {
      if (err) handleError(err);
      fail(msg ?? "invalid command line");
    })
    .parseAsync();
}

main(hideBin(process.argv)).catch(handleError);
