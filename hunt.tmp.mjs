import fc from "fast-check";
import { scenarioArb, normalize } from "/work/main/dist/fuzz/scenario.js";
import { evaluate } from "/work/main/dist/fuzz/property.js";
import { writeFileSync } from "node:fs";
const mode = process.argv[2], seed = Number(process.argv[3]), from = Number(process.argv[4] ?? 0), to = Number(process.argv[5] ?? 1000);
const samples = fc.sample(scenarioArb(mode), { seed, numRuns: to });
for (let i = from; i < to; i++) {
  const r = evaluate(normalize(mode, samples[i]));
  if (r.failures.length) { console.log("FAIL at", i, r.failures); writeFileSync(`/tmp/h/fail-${mode}-${seed}-${i}.json`, JSON.stringify(samples[i])); break; }
}
console.log("done");
