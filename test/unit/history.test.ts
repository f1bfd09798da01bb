import { fileURLToPath } from "node:url";
import { describe } from "vitest";
import { chunkHistory, type HistoryEntry, HistoryRing } from "../../src/core/state/history.js";
import { type Cmd, datadriven } from "../helpers/datadriven.js";

let ring = new HistoryRing(3);

const show = (e: HistoryEntry): string =>
  `${e.from}/${e.inc}#${e.seq}${e.order !== undefined ? `@${e.order}` : ""}(${e.text.length})`;

function handle(c: Cmd): string {
  switch (c.name) {
    case "ring":
      ring = new HistoryRing(c.num("cap"));
      return `capacity ${ring.capacity}`;
    case "push": {
      // seq=a..b pushes one entry per seq; order= numbers them from there; len= sets text size.
      let order = c.has("order") ? c.num("order") : undefined;
      for (const seq of c.nums("seq")) {
        const e: HistoryEntry = {
          from: c.num("from"),
          inc: c.num("inc", 1),
          seq,
          text: "x".repeat(c.num("len", 1)),
        };
        if (order !== undefined) e.order = order++;
        ring.push(e);
      }
      return `size ${ring.size}`;
    }
    case "entries": {
      const upTo = c.num("upTo", Number.POSITIVE_INFINITY);
      const es = ring.entries((e) => (e.order ?? 0) <= upTo);
      return es.length === 0 ? "empty" : es.map(show).join(" ");
    }
    case "clear":
      ring.clear();
      return `size ${ring.size}`;
    case "chunk": {
      const chunks = chunkHistory(ring.entries(), c.num("max"));
      if (chunks.length === 0) return "no chunks";
      return chunks
        .map((ch, i) => {
          const bytes = ch.reduce((n, e) => n + e.text.length * 3 + 32, 0);
          return `chunk ${i + 1} (${bytes} bytes): ${ch.map(show).join(" ")}`;
        })
        .join("\n");
    }
    default:
      throw new Error(`unknown command ${c.name}`);
  }
}

describe("history ring and chunks (testdata/history.txt)", () => {
  datadriven(fileURLToPath(new URL("testdata/history.txt", import.meta.url)), handle);
});
