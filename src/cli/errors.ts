/** A problem with the user's input: printed as one line on stderr, exit code 2. */
export class UsageError extends Error {}

export function fail(msg: string, code = 2): never {
  process.stderr.write(`rmchat: error: ${msg}\n`);
  process.exit(code);
}
