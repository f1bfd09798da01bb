import { fileURLToPath } from "node:url";
import { describe } from "vitest";
import { defaultMembership } from "../../src/core/membership/config.js";
import {
  FailureDetector,
  type HealthChange,
  type ProbeCtrl,
} from "../../src/core/membership/detector.js";
import { type Cmd, datadriven } from "../helpers/datadriven.js";

let hosts = 4;
let fd = new FailureDetector(0, hosts, defaultMembership(hosts));

function report(changes: HealthChange[], ctrl: Array<{ to: number; msg: ProbeCtrl }> = []): string {
  const lines = changes.map((ch) => `peer ${ch.peer}: ${ch.from} -> ${ch.to}`);
  for (const x of ctrl) {
    if (x.msg.t !== "ping-req") throw new Error(`unexpected ${x.msg.t}`);
    lines.push(`-> ${x.to} ping-req target=${x.msg.target} nonce=${x.msg.nonce}`);
  }
  const states: string[] = [];
  for (let p = 0; p < hosts; p++) states.push(`${p}:${fd.state(p)}`);
  lines.push(`${states.join(" ")} wake=${fd.nextWake() ?? "-"}`);
  return lines.join("\n");
}

function handle(c: Cmd): string {
  const changes: HealthChange[] = [];
  switch (c.name) {
    case "new": {
      hosts = c.num("hosts", 4);
      const cfg = { ...defaultMembership(hosts), indirectProbes: c.num("k", 3) };
      fd = new FailureDetector(c.num("self", 0), hosts, cfg);
      return report(changes);
    }
    case "heard":
      for (const p of c.nums("p")) fd.heard(p, c.num("now"), changes);
      return report(changes);
    case "tick": {
      const ctrl: Array<{ to: number; msg: ProbeCtrl }> = [];
      fd.tick(c.num("now"), changes, ctrl);
      return report(changes, ctrl);
    }
    case "stalled":
      fd.stalled(c.num("ms"));
      return report(changes);
    case "counts": {
      const n = fd.counts();
      return `alive ${n.alive} suspect ${n.suspect} dead ${n.dead} unknown ${n.unknown}`;
    }
    case "unsure": {
      const u: number[] = [];
      for (let p = 0; p < hosts; p++) if (fd.unsure(p)) u.push(p);
      return `unsure: ${u.length > 0 ? u.join(",") : "none"}`;
    }
    default:
      throw new Error(`unknown command ${c.name}`);
  }
}

describe("FailureDetector (testdata/detector.txt)", () => {
  datadriven(fileURLToPath(new URL("testdata/detector.txt", import.meta.url)), handle);
});
