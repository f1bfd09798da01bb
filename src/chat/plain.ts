import { createInterface } from "node:readline";
import type { NodeEvent } from "../core/node.js";
import type { Logger } from "../log.js";
import type { ChatContext } from "./context.js";
import { jsonEvent, sanitize } from "./sanitize.js";

/** What line mode prints for one event on stdout (undefined: nothing). */
export function formatEvent(ev: NodeEvent, json: boolean, at?: Date): string | undefined {
  if (json) {
    // The clock is read for --json lines only (a plain line has no time).
    const now = at ?? new Date();
    switch (ev.type) {
      case "deliver": {
        const o: Record<string, unknown> = {
          from: ev.from,
          seq: ev.seq,
          text: ev.text,
        };
        if (ev.order !== undefined) o.order = ev.order;
        if (ev.vc !== undefined) o.vc = ev.vc;
        if (ev.history) o.history = true;
        return jsonEvent("deliver", o, now);
      }
      case "peer":
        return jsonEvent(
          "peer",
          { peer: ev.peer, state: ev.state, incarnation: ev.incarnation },
          now,
        );
      case "notice":
        return jsonEvent("notice", { level: ev.level, msg: ev.msg }, now);
      case "view":
        return jsonEvent(
          "view",
          { term: ev.term, version: ev.version, members: ev.members, incarnations: ev.incs },
          now,
        );
      case "rejoin":
        return jsonEvent("rejoin", { incarnation: ev.incarnation, reason: ev.reason }, now);
      case "leader":
        return jsonEvent("leader", { term: ev.term, leader: ev.leader }, now);
      case "health":
        return jsonEvent("health", { peer: ev.peer, state: ev.to }, now);
      case "acked":
      case "lease":
      case "sent":
        return undefined;
    }
  }
  if (ev.type === "deliver") return `${ev.from} says: ${sanitize(ev.text)}`;
  return undefined;
}

/**
 * Line mode: each stdin line is multicast; each delivery is printed as
 * `<sender> says: <text>`. Stdin EOF keeps the node running.
 */
export function runPlain(
  ctx: Pick<ChatContext, "rt" | "logger" | "json">,
  io: { input: NodeJS.ReadableStream; out: Pick<NodeJS.WritableStream, "write"> } = {
    input: process.stdin,
    out: process.stdout,
  },
): void {
  const { rt, logger, json } = ctx;
  const out = io.out;
  // One write per batch of events (a flush of the node): a burst's lines cost one syscall.
  rt.onEvents((evs) => {
    let text = "";
    for (const ev of evs) {
      const line = formatEvent(ev, json);
      if (line !== undefined) text += `${line}\n`;
      logEvent(ev, logger);
    }
    if (text !== "") out.write(text);
  });
  const rl = createInterface({
    input: io.input,
    crlfDelay: Number.POSITIVE_INFINITY,
    terminal: false,
  });
  rl.on("line", (line) => {
    if (line.length === 0) return;
    const r = rt.send(line);
    if (!r.ok) {
      if (json) out.write(`${jsonEvent("error", { error: r.error })}\n`);
      process.stderr.write(`rmchat: ${r.error}\n`);
    }
  });
  rl.on("close", () => {
    logger.info("stdin closed; still delivering and acknowledging (SIGINT or SIGTERM stops)");
  });
}

/** What line mode logs on stderr for one event. */
function logEvent(ev: NodeEvent, logger: Logger): void {
  if (ev.type === "notice") logger.log(ev.level, ev.msg);
  else if (ev.type === "peer") logger.info(`node ${ev.peer} is ${ev.state}`, { peer: ev.peer });
  else if (ev.type === "leader") {
    logger.info(
      ev.leader === null ? "no leader" : `leader is node ${ev.leader} (term ${ev.term})`,
      {
        leader: ev.leader,
        term: ev.term,
      },
    );
  } else if (ev.type === "view") {
    logger.info(`view ${ev.term}.${ev.version}: [${ev.members.join(", ")}]`, {
      members: ev.members,
    });
  } else if (ev.type === "health" && (ev.to === "dead" || ev.to === "suspect")) {
    logger.info(`node ${ev.peer} is ${ev.to}`, { peer: ev.peer });
  }
}
