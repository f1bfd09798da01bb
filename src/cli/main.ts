import { randomBytes } from "node:crypto";
import yargs, { type Arguments, type Argv, type MiddlewareFunction } from "yargs";
import { hideBin } from "yargs/helpers";
import { ConfigError } from "../config/config.js";
import { StateDirError } from "../runtime/hard-state.js";
import { HostsError } from "../runtime/resolve.js";
import { StartError } from "../runtime/udp.js";
import { agentBuilder, runAgent } from "./agent-command.js";
import { benchCommand } from "./bench-command.js";
import { chatBuilder, runChat } from "./chat-command.js";
import { applyEnvironment, unknownCommand } from "./conventions.js";
import { fail, UsageError } from "./errors.js";
import { runStatus, statusBuilder } from "./status-command.js";
import { packageVersion } from "./version.js";

function handleError(e: unknown): never {
  if (
    e instanceof UsageError ||
    e instanceof ConfigError ||
    e instanceof StartError ||
    e instanceof StateDirError ||
    e instanceof HostsError
  )
    fail(e.message, 2);
  const msg = e instanceof Error ? e.message : String(e);
  if (process.env.RMCHAT_DEBUG) process.stderr.write(`${(e as Error)?.stack ?? msg}\n`);
  fail(`internal error: ${msg} (set RMCHAT_DEBUG=1 for details)`, 1);
}

process.on("uncaughtException", handleError);
process.on("unhandledRejection", handleError);

// `rmchat status | head -1`: a reader that went away is not an error. Commands that run a node
// listen themselves (to close their socket first); everyone else ends here, quietly, exit 0.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (process.stdout.listenerCount("error") > 1) return;
  if (e.code === "EPIPE") process.exit(0);
  handleError(e);
});
// Nothing can be reported on a broken stderr; the node goes on.
process.stderr.on("error", () => {});

function build(argv: string[]) {
  return (
    yargs(argv)
      .scriptName("rmchat")
      .usage("$0 <id> [delay] [drop]  — reliable multicast chat node")
      // yargs passes itself as the second argument (its types declare only the first).
      .middleware(
        ((args: Arguments, y: Argv) => applyEnvironment(args, y, argv)) as MiddlewareFunction,
        true,
      )
      .command(
        "$0 <id> [delay] [drop]",
        "run chat node <id> (TUI on a terminal, line mode otherwise)",
        chatBuilder,
        async (a) => {
          const id = String(a.id);
          if (!/^\d+$/.test(id) && /^[A-Za-z]/.test(id)) throw new UsageError(unknownCommand(id));
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
      .epilogue(
        "Every flag can also come from the environment: RMCHAT_ plus its name in capitals, dashes as underscores (--log-level: RMCHAT_LOG_LEVEL); the command line wins.",
      )
      .strict()
      .help()
      .alias("h", "help")
      .version(packageVersion())
      .alias("V", "version")
      .wrap(Math.min(100, process.stdout.columns ?? 100))
      .fail((msg, err) => {
        if (err) handleError(err);
        const text = /^Not enough non-option arguments/.test(msg ?? "")
          ? "missing the node id"
          : (msg ?? "invalid command line").replace(/\s*\n\s*/g, " ");
        fail(`${text} (rmchat --help shows usage)`);
      })
  );
}

export async function main(argv: string[]): Promise<void> {
  const y = build(argv);
  if (argv.length === 0) {
    // A bare `rmchat`: the usage, on stderr as for any other incomplete command line.
    process.stderr.write(`${await y.getHelp()}\n`);
    process.exit(2);
  }
  await y.parseAsync();
}

main(hideBin(process.argv)).catch(handleError);
