import { fileURLToPath } from "node:url";
import { describe } from "vitest";
import {
  type Cut,
  cutOf,
  type FlushReport,
  type InstallPlan,
  planInstall,
  relaysFor,
  type ViewId,
} from "../../src/core/views/flush.js";
import { type Cmd, datadriven } from "../helpers/datadriven.js";

let reports: FlushReport[] = [];
let plan: InstallPlan | undefined;
let cut: Cut | undefined;

const vid = (v: ViewId | null): string => (v ? `${v.term}.${v.version}` : "none");

function parseView(s: string): ViewId | null {
  if (s === "none") return null;
  const [term, version] = s.split(".").map(Number);
  if (term === undefined || version === undefined) throw new Error(`bad view ${s}`);
  return { term, version };
}

function primary(c: Cmd): ViewId {
  const p = c.has("primary") ? parseView(c.str("primary")) : (plan?.primary ?? null);
  if (!p) throw new Error("no primary view");
  return p;
}

function handle(c: Cmd): string {
  switch (c.name) {
    case "reset":
      reports = [];
      plan = undefined;
      cut = undefined;
      return "ok";
    case "report":
      reports.push({
        member: c.num("member"),
        inc: c.num("inc", 1),
        old: parseView(c.str("old")),
        recv: c.nums("recv", []),
        next: c.num("next", 1),
      });
      return `${reports.length} reports`;
    case "plan": {
      plan = planInstall(c.num("leader"), reports);
      return [
        `primary ${vid(plan.primary)}`,
        `members ${plan.members.join(",")}`,
        `rejoin ${plan.rejoin.join(",") || "-"}`,
      ].join("\n");
    }
    case "cut": {
      cut = cutOf(reports, primary(c), c.nums("senders"));
      const cc = cut;
      return [...cc.upTo]
        .map(([s, n]) => `sender ${s}: up to ${n}, holder ${cc.holder.get(s) ?? "-"}`)
        .join("\n");
    }
    case "relays": {
      if (!cut) throw new Error("no cut");
      const r = relaysFor(c.num("self"), reports, primary(c), cut);
      if (r.length === 0) return "none";
      return r.map((x) => `relay sender ${x.sender} to ${x.to}: ${x.from}..${x.upTo}`).join("\n");
    }
    default:
      throw new Error(`unknown command ${c.name}`);
  }
}

describe("view-change flush (testdata/flush.txt)", () => {
  datadriven(fileURLToPath(new URL("testdata/flush.txt", import.meta.url)), handle);
});
