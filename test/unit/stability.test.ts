import { fileURLToPath } from "node:url";
import { describe } from "vitest";
import { Stability } from "../../src/core/order/stability.js";
import { type Cmd, datadriven } from "../helpers/datadriven.js";

let hosts = 3;
let st = new Stability(0, hosts);
/** The admitted life per sender (what the intake would say). */
let lives: number[] = [];

function held(): string {
  const lines: string[] = [];
  for (let k = 0; k < hosts; k++) {
    const have: string[] = [];
    for (const inc of [...new Set([...lives, 1, 2, 3])].sort())
      for (let seq = 1; seq <= 20; seq++) if (st.get(k, inc, seq)) have.push(`${inc}#${seq}`);
    if (have.length > 0) lines.push(`sender ${k}: ${have.join(" ")}`);
  }
  lines.push(`size ${st.size}`);
  return lines.join("\n");
}

function handle(c: Cmd): string {
  switch (c.name) {
    case "new":
      hosts = c.num("hosts", 3);
      st = new Stability(c.num("self", 0), hosts);
      lives = new Array<number>(hosts).fill(1);
      return "ok";
    case "keep":
      for (const seq of c.nums("seq"))
        st.keep({ kind: "chat", from: c.num("from"), seq, text: "", vc: null }, c.num("inc", 1));
      return held();
    case "report":
      st.report(c.num("from"), c.nums("received"), c.nums("incs"));
      return "ok";
    case "lives":
      lives = c.nums("incs");
      return "ok";
    case "release":
      st.release(c.nums("members"), (k) => lives[k] ?? 0);
      return held();
    case "get": {
      const m = st.get(c.num("k"), c.num("inc", 1), c.num("seq"));
      return m ? `${m.from}#${m.seq}` : "not held";
    }
    case "forget":
      st.forget(c.num("k"));
      return held();
    case "clear":
      st.clear();
      return held();
    default:
      throw new Error(`unknown command ${c.name}`);
  }
}

describe("Stability relay buffers (testdata/stability.txt)", () => {
  datadriven(fileURLToPath(new URL("testdata/stability.txt", import.meta.url)), handle);
});
