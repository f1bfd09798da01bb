import type { Config } from "../config/config.js";
import type { Logger } from "../log.js";
import type { UdpRuntime } from "../runtime/udp.js";

/** Everything a chat front end (line mode or TUI) gets from the CLI. */
export interface ChatContext {
  rt: UdpRuntime;
  config: Config;
  id: number;
  logger: Logger;
  json: boolean;
  /** Stop the node and exit the process with `code`. */
  shutdown: (code: number) => Promise<never>;
}
