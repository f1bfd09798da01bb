import { createServer, type Server } from "node:http";
import type { Logger } from "../log.js";
import { METRICS_CONTENT_TYPE } from "./metrics.js";
import { formatHostPort } from "./resolve.js";
import { StartError } from "./udp.js";

export interface MetricsEndpoints {
  /** The exposition text for `/metrics`. */
  metrics(): string;
  /** `/health`: 200 with `reason` when ok, else 503 with it. */
  health(): { ok: boolean; reason: string };
}

export interface MetricsServer {
  address: string;
  port: number;
  close(): Promise<void>;
}

/**
 * `--metrics HOST:PORT`: a small HTTP server with GET /metrics (Prometheus text format) and
 * GET /health. Read-only: a scrape reads counters, it never changes protocol state.
 */
export async function serveMetrics(
  host: string,
  port: number,
  endpoints: MetricsEndpoints,
  logger: Logger,
): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain" });
      res.end("method not allowed\n");
      return;
    }
    try {
      if (path === "/metrics") {
        res.writeHead(200, { "content-type": METRICS_CONTENT_TYPE });
        res.end(req.method === "HEAD" ? undefined : endpoints.metrics());
      } else if (path === "/health") {
        const h = endpoints.health();
        res.writeHead(h.ok ? 200 : 503, { "content-type": "text/plain; charset=utf-8" });
        res.end(req.method === "HEAD" ? undefined : `${h.reason}\n`);
      } else {
        res.writeHead(404, { "content-type": "text/plain" });
        res.end("not found: try /metrics or /health\n");
      }
    } catch (e) {
      logger.error("metrics request failed", { path, error: String(e) });
      res.writeHead(500, { "content-type": "text/plain" });
      res.end("internal error\n");
    }
  });
  server.keepAliveTimeout = 5000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  await new Promise<void>((ok, fail) => {
    server.once("error", (e: NodeJS.ErrnoException) => {
      const where = formatHostPort(host, port);
      fail(
        new StartError(
          e.code === "EADDRINUSE"
            ? `--metrics ${where}: port already in use`
            : e.code === "EADDRNOTAVAIL"
              ? `--metrics ${where}: that address is not on this machine`
              : e.code === "EACCES"
                ? `--metrics ${where}: permission denied`
                : `--metrics ${where}: ${e.code ?? e.message}`,
        ),
      );
    });
    server.listen(port, host, () => ok());
  });
  server.on("error", (e) => logger.warn("metrics server error", { error: String(e) }));
  const addr = server.address();
  const bound = typeof addr === "object" && addr ? addr : { address: host, port };
  return {
    address: bound.address,
    port: bound.port,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
