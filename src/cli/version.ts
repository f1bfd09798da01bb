import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

let cached: string | undefined;

/** The version in the package's package.json (dist/cli/ → ../../package.json). */
export function packageVersion(): string {
  if (cached === undefined) {
    const here = dirname(fileURLToPath(import.meta.url));
    try {
      const pkg = JSON.parse(readFileSync(resolve(here, "..", "..", "package.json"), "utf8")) as {
        version?: unknown;
      };
      cached = typeof pkg.version === "string" ? pkg.version : "unknown";
    } catch {
      cached = "unknown";
    }
  }
  return cached;
}
