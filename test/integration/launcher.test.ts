import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { launcherFlags } from "../../src/bench/edges.js";

// bin/rmchat runs as a shell runs it (its #! line, not `node bin/rmchat`): node gets the
// launcher's options, which `rmchat bench` passes on to the CLI nodes it starts.

const BIN = join(import.meta.dirname, "..", "..", "bin", "rmchat");

/** The command line of a process (Linux), arguments split. */
function cmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
  } catch {
    return [];
  }
}

describe("the rmchat launcher", () => {
  it("reads the node options of a #! line", () => {
    expect(launcherFlags("#!/usr/bin/env -S node --no-memory-reducer")).toEqual([
      "--no-memory-reducer",
    ]);
    expect(launcherFlags("#!/usr/bin/env -S node --a --b=2 ")).toEqual(["--a", "--b=2"]);
    expect(launcherFlags("#!/usr/bin/env node")).toEqual([]);
    expect(launcherFlags("#!/bin/sh")).toEqual([]);
    expect(launcherFlags("// not a launcher")).toEqual([]);
  });

  it("gives node --no-memory-reducer when run directly", async () => {
    expect(launcherFlags(readFileSync(BIN, "utf8").split("\n", 1)[0] ?? "")).toEqual([
      "--no-memory-reducer",
    ]);
    // A status query to a port nobody answers waits its timeout: time to read its command line.
    const p = spawn(BIN, ["status", "--addr", "127.0.0.1:9", "--json", "--timeout", "5"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      const pid = p.pid as number;
      let args: string[] = [];
      // Until env has handed over to node (bounded: 500 looks, 10 ms apart).
      for (let i = 0; i < 500; i++) {
        args = cmdline(pid);
        if (args.some((a) => a.endsWith("rmchat")) && !args[0]?.endsWith("env")) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(args[0]).toMatch(/node$/);
      expect(args.slice(1, args.indexOf(BIN))).toEqual(["--no-memory-reducer"]);
    } finally {
      p.kill("SIGKILL");
    }
  });
});
