import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { decodeCtrl, encodeCtrl } from "../../src/core/ctrl.js";
import { defaultMembership } from "../../src/core/membership/config.js";
import {
  Election,
  type ElectionCtrl,
  type ElectionOut,
  type LogPosition,
} from "../../src/core/membership/election.js";
import { type Cmd, datadriven } from "../helpers/datadriven.js";

let el: Election | undefined;
let pos: LogPosition = { lastIndex: 0, lastTerm: 0 };
let setup = { self: 0, hosts: 3, rng: 0 };
/** Peers the failure detector holds dead (`detector dead=…`). */
let dead = new Set<number>();

function create(term: number, votedFor: number, now: number): Election {
  const cfg = defaultMembership(setup.hosts);
  const rng = setup.rng;
  return new Election(
    setup.self,
    setup.hosts,
    cfg,
    () => rng,
    { term, votedFor },
    now,
    () => pos,
    (p) => !dead.has(p),
  );
}

function msgText(m: ElectionCtrl): string {
  switch (m.t) {
    case "prevote-req":
    case "vote-req":
      return `${m.t} term=${m.term} last=${m.lastIndex}/${m.lastTerm}`;
    case "prevote-resp":
    case "vote-resp":
      return `${m.t} term=${m.term} granted=${m.granted}${m.forgot ? " forgot" : ""}`;
    case "leader-hb":
    case "leader-ack":
      return `${m.t} term=${m.term} round=${m.round}`;
    case "timeout-now":
      return `${m.t} term=${m.term}`;
  }
}

/** Sends, then the state; a changed term or vote is "persisted" (dirty cleared, as the shell does). */
function report(e: Election, out: ElectionOut, extra: string[] = []): string {
  const lines = [...extra, ...out.map((o) => `-> ${o.to} ${msgText(o.msg)}`)];
  let s = `${e.role} term=${e.term} vote=${e.votedFor} leader=${e.leader ?? "-"}`;
  if (e.role === "leader") s += ` lease=${e.leaseUntil}`;
  if (e.dirty) {
    s += " persist";
    e.dirty = false;
  }
  lines.push(s);
  return lines.join("\n");
}

function parseMsg(c: Cmd): ElectionCtrl {
  const term = c.num("term");
  const t = c.str("t");
  switch (t) {
    case "prevote-req":
    case "vote-req":
      return { t, term, lastIndex: c.num("lastIndex", 0), lastTerm: c.num("lastTerm", 0) };
    case "prevote-resp":
    case "vote-resp":
      return c.bool("forgot")
        ? { t, term, granted: c.bool("granted", true), forgot: true }
        : { t, term, granted: c.bool("granted", true) };
    case "leader-hb":
    case "leader-ack":
      return { t, term, round: c.num("round", 1) };
    default:
      throw new Error(`unknown message ${t}`);
  }
}

function handle(c: Cmd): string {
  if (c.name === "new") {
    setup = { self: c.num("self", 0), hosts: c.num("hosts", 3), rng: c.num("rng", 0) };
    pos = { lastIndex: c.num("lastIndex", 0), lastTerm: c.num("lastTerm", 0) };
    dead = new Set();
    el = create(c.num("term", 0), c.num("voted", -1), c.num("now", 0));
    el.unsafeVoteTwice = c.bool("voteTwice");
    return report(el, []);
  }
  if (!el) throw new Error("no election: use new");
  const e = el;
  const out: ElectionOut = [];
  switch (c.name) {
    case "restart": {
      // A new process from the persisted hard state.
      const h = e.hard();
      el = create(h.term, h.votedFor, c.num("now"));
      return report(el, []);
    }
    case "lost-log":
      // The log is gone (a restart): the shell empties it and tells the election.
      pos = { lastIndex: 0, lastTerm: 0 };
      e.lostLog(c.num("now"));
      return "ok";
    case "detector":
      dead = new Set(c.nums("dead"));
      return "ok";
    case "log":
      pos = { lastIndex: c.num("lastIndex"), lastTerm: c.num("lastTerm") };
      return "ok";
    case "tick":
      e.tick(c.num("now"), out, c.num("judged", c.num("now")));
      return report(e, out, [`wake ${e.nextWake()}`]);
    case "recv":
      e.receive(c.num("from"), parseMsg(c), c.num("now"), out, c.num("judged", c.num("now")));
      return report(e, out);
    case "heartbeat":
      e.heartbeat(c.num("now"), out);
      return report(e, out);
    case "lease":
      return report(e, out, [e.leaseHeld(c.num("now")) ? "lease held" : "no lease"]);
    case "abdicate":
      e.abdicate(c.num("now"));
      return report(e, out);
    case "observe-leader":
      e.observeLeader(c.num("from"), c.num("term"), c.num("now"));
      return report(e, out);
    case "observe-term":
      e.observeTerm(c.num("term"), c.num("now"));
      return report(e, out);
    case "stalled":
      e.stalled(c.num("ms"));
      return report(e, out, [`wake ${e.nextWake()}`]);
    default:
      throw new Error(`unknown command ${c.name}`);
  }
}

describe("Election (testdata/election.txt)", () => {
  datadriven(fileURLToPath(new URL("testdata/election.txt", import.meta.url)), handle);
});

describe("vote answers on the wire", () => {
  it("keep granted and forgot, and reject other flag values", () => {
    const msgs: ElectionCtrl[] = [
      { t: "vote-resp", term: 3, granted: true },
      { t: "vote-resp", term: 3, granted: false },
      { t: "vote-resp", term: 3, granted: true, forgot: true },
      { t: "prevote-resp", term: 4, granted: false, forgot: true },
    ];
    for (const m of msgs) expect(decodeCtrl(encodeCtrl(m), 3)).toEqual(m);
    expect(encodeCtrl({ t: "vote-resp", term: 3, granted: true, forgot: true })).toEqual([6, 3, 3]);
    expect(decodeCtrl([6, 3, 4], 3)).toBeNull();
    expect(decodeCtrl([4, 3, -1], 3)).toBeNull();
    expect(decodeCtrl([4, 3, 1, 0], 3)).toBeNull();
  });
});
