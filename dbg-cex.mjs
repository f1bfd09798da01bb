
// TEMP debug: replay /tmp/cex1.json and dump events
import { readFileSync } from "node:fs";
const { normalize } = await import("./dist/fuzz/scenario.js");
const { runPlan } = await import("./dist/fuzz/runner.js");
const { checkTrace } = await import("./dist/fuzz/checkers.js");
const sc = JSON.parse(readFileSync(process.argv[2] ?? "/tmp/cex1.json", "utf8"));
const mode = process.argv[3] ?? "fifo";
const plan = normalize(mode, sc, { crash: "abrupt" });
const r = runPlan(plan, {});
const focus = process.argv[4] ? process.argv[4].split(",").map(Number) : null;
for (const e of r.trace.events) {
  if (focus && !focus.includes(e.node)) continue;
  if (e.kind === "deliver") console.log(`t=${e.t.toFixed(1)} n${e.node}@${e.inc} deliver ${e.from}#${e.seq} ${e.text.slice(0, 12)}${e.history ? " HISTORY" : ""}`);
  else if (e.kind === "send" || e.kind === "accept") console.log(`t=${e.t.toFixed(1)} n${e.node} ${e.kind} ${e.seq ?? ""} ${e.text.slice(0, 12)}`);
  else console.log(`t=${e.t.toFixed(1)} n${e.node} ${e.kind} ${JSON.stringify({ ...e, kind: undefined, t: undefined, node: undefined })}`);
}
