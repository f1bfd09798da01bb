import { fileURLToPath } from "node:url";
import { describe } from "vitest";
import type { ChatMsg } from "../../src/core/app-message.js";
import { SenderIntake } from "../../src/core/order/intake.js";
import { type Cmd, datadriven } from "../helpers/datadriven.js";

const msg = (from: number, seq: number): ChatMsg => ({
  kind: "chat",
  from,
  seq,
  text: `m${from}.${seq}`,
  vc: null,
});

let intake = new SenderIntake(3, 4);
let passed: string[] = [];
const pass = (m: ChatMsg, inc: number): void => {
  passed.push(`pass ${m.from}/${inc}#${m.seq} ${m.text}`);
};

function out(extra: string[] = []): string {
  const lines = [...extra, ...passed];
  passed = [];
  lines.push(`waiting ${intake.waiting}`);
  return lines.join("\n");
}

function handle(c: Cmd): string {
  switch (c.name) {
    case "new":
      intake = new SenderIntake(c.num("hosts", 3), c.num("maxEarly", 4));
      passed = [];
      return "ok";
    case "take": {
      const res: string[] = [];
      for (const seq of c.nums("seq")) {
        const r = intake.take(msg(c.num("from"), seq), c.num("inc"), pass);
        if (r !== "ok") res.push(`seq ${seq}: ${r}`);
      }
      if (intake.full(c.num("from"))) res.push(`sender ${c.num("from")} full`);
      return out(res);
    }
    case "admit":
      intake.admit(c.num("k"), c.num("inc"), c.num("next", 1), pass);
      return out();
    case "limit":
      intake.setLimit(c.num("k"), c.num("limit"), pass);
      return out();
    case "close":
      intake.close(c.num("k"));
      return out();
    case "clear":
      intake.clear();
      return out();
    case "report": {
      const r = intake.report();
      const lines = r.received.map(
        (n, k) => `sender ${k}: life ${intake.lifeOf(k)} received ${n} (${intake.received(k)})`,
      );
      lines.push(`incs ${r.incs.join(",")}`);
      return lines.join("\n");
    }
    default:
      throw new Error(`unknown command ${c.name}`);
  }
}

describe("SenderIntake (testdata/intake.txt)", () => {
  datadriven(fileURLToPath(new URL("testdata/intake.txt", import.meta.url)), handle);
});
