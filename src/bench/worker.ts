/**
 * A benchmark worker process (started by the coordinator with an IPC channel): runs one
 * rmchat node over real UDP on loopback per run, or one role of the raw-UDP baseline.
 */
import { WorkerHost } from "./host.js";
import type { ToWorker, WorkerMsg } from "./protocol.js";

if (!process.send) {
  process.stderr.write("rmchat bench worker: start me through `rmchat bench`\n");
  process.exit(2);
}

const host = new WorkerHost(
  (m: WorkerMsg) => {
    if (process.connected) process.send?.(m);
  },
  () => process.exit(0),
);
process.on("message", (m) => {
  void host.handle(m as ToWorker);
});
// The coordinator is gone (or closed the channel): leave at once.
process.on("disconnect", () => process.exit(0));
