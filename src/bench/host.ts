import { runBaselineRole } from "./baseline.js";
import { BenchNode } from "./bench-node.js";
import type { FromWorker, ToWorker, WorkerMsg } from "./protocol.js";

/**
 * What runs inside a worker (a child process, or this process with --in-process): one
 * BenchNode per run, created on `init` and closed on `reset`, so that the process (and its
 * JIT-compiled code) outlives the protocol state of each run.
 */
export class WorkerHost {
  private node: BenchNode | undefined;
  private run = 0;

  constructor(
    private readonly emit: (m: WorkerMsg) => void,
    private readonly exit: () => void,
  ) {}

  async handle(m: ToWorker): Promise<void> {
    switch (m.t) {
      case "init": {
        await this.node?.stop();
        const run = m.run;
        this.run = run;
        this.node = new BenchNode((x: FromWorker) => this.emit({ ...x, run }));
        this.node.handle(m);
        return;
      }
      case "reset":
        await this.node?.stop();
        this.node = undefined;
        this.emit({ t: "reset-done", run: m.run });
        return;
      case "stop":
        await this.node?.stop();
        this.node = undefined;
        this.exit();
        return;
      case "baseline":
        await runBaselineRole(m, (x) => this.emit({ ...x, run: this.run }));
        return;
      default:
        this.node?.handle(m);
    }
  }
}
