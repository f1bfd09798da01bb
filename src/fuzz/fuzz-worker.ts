import { parentPort } from "node:worker_threads";
import { type ChunkTask, type FromWorker, runChunk } from "./campaign.js";

/** A campaign's worker thread: runs the chunks it is handed, one at a time. */
const port = parentPort;
if (!port) throw new Error("fuzz-worker.js runs as a worker thread of the fuzz campaign");
port.on("message", (t: ChunkTask) => {
  let last = 0;
  const progress = (executed: number, shrinking: boolean): void => {
    const now = performance.now();
    if (now - last < 100) return;
    last = now;
    port.postMessage({ type: "progress", executed, shrinking } satisfies FromWorker);
  };
  port.postMessage(runChunk(t, progress) satisfies FromWorker);
});
