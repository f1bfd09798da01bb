import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { formatEdges, measureEdges } from "../../src/bench/edges.js";

// The edges of `rmchat bench --suite targets`: real rmchat CLI processes, the raw-UDP chat and
// a stand-in for the Python original, fed on stdin and read on stdout. Checks counts and
// formats only (no speed: benchmarks measure speed).

const hasPython = spawnSync("python3", ["--version"]).status === 0;

/**
 * A stand-in for the original with its interface: `bin/reliable_multicast_chat ID DELAY DROP`,
 * the host list in `reliable_multicast_chat/config.py`, `print(sender, "says: ", text)`. It
 * multicasts each stdin line once over UDP (no loss repair: it ignores DROP).
 */
function fakeOriginal(): string {
  const dir = mkdtempSync(join(tmpdir(), "rmchat-fake-original-"));
  mkdirSync(join(dir, "bin"));
  mkdirSync(join(dir, "reliable_multicast_chat"));
  writeFileSync(
    join(dir, "reliable_multicast_chat", "config.py"),
    "config = {'hosts': [], 'ordering': 'casual'}\n",
  );
  writeFileSync(join(dir, "reliable_multicast_chat", "chat_process.py"), "\n");
  writeFileSync(
    join(dir, "bin", "reliable_multicast_chat"),
    `import os, socket, sys, threading
sys.path.append(os.path.dirname(os.path.realpath(__file__)) + '/../reliable_multicast_chat/')
import config
me = int(sys.argv[1])
hosts = config.config['hosts']
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(hosts[me])
def recv():
    while True:
        data, _ = sock.recvfrom(2048)
        sender, text = data.decode().split(',', 1)
        print(sender, "says: ", text)
threading.Thread(target=recv, daemon=True).start()
for line in sys.stdin:
    for i, h in enumerate(hosts):
        if i != me:
            sock.sendto(('%d,%s' % (me, line[:-1])).encode(), h)
threading.Event().wait()
`,
  );
  return dir;
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("bench edges", () => {
  it.skipIf(!hasPython)(
    "measures rmchat's CLI, the raw-UDP chat and an original over pipes",
    async () => {
      const python = fakeOriginal();
      dirs.push(python);
      const o = {
        nodes: 4,
        lone: 3,
        pacedRate: 20,
        pacedSeconds: 0.5,
        idleSeconds: 0.5,
        burstCount: 20,
        burstDrop: 0.1,
        python,
        timeoutS: 60,
      };
      const rs = await measureEdges(o);
      expect(rs.map((r) => r.kind)).toEqual(["rmchat", "raw", "python"]);
      for (const r of rs) {
        expect(r.error).toBeUndefined();
        // Every lone message reached the 3 other nodes: one sample per arrival.
        expect(r.lone).toMatchObject({ count: 9, missing: 0 });
        expect(r.lone?.p99).toBeGreaterThanOrEqual(r.lone?.p50 ?? Number.NaN);
        // 10 lines per node (20/s for 0.5 s), each read at 3 others.
        expect(r.paced?.count).toBe(4 * 10 * 3);
      }
      const [rm, raw, py] = rs;
      expect(rm?.idleCpuPct).toHaveLength(4);
      expect(raw?.idleCpuPct).toBeUndefined();
      expect(raw?.burst).toBeUndefined();
      // rmchat repairs the loss: every line everywhere. The stand-in ignores the drop.
      expect(rm?.burst).toMatchObject({ complete: true, delivered: 4 * 20 * 3 });
      expect(py?.burst).toMatchObject({ complete: true, delivered: 4 * 20 * 3 });
      const text = formatEdges(rs, o).join("\n");
      expect(text).toMatch(/rmchat CLI: idle CPU [\d.]+ \/ [\d.]+ \/ [\d.]+ \/ [\d.]+ % of a core/);
      expect(text).toMatch(
        /raw UDP chat: lone message p50 [\d.]+ ms, p99 [\d.]+ ms \(9 arrivals\)/,
      );
      expect(text).toMatch(/Python original: .*burst 4×20 drop 0\.1: [\d.]+ s/);
    },
    120_000,
  );

  it("reports an original that does not start, and goes on", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rmchat-broken-original-"));
    dirs.push(dir);
    mkdirSync(join(dir, "bin"));
    mkdirSync(join(dir, "reliable_multicast_chat"));
    // Exits at once: the driver must say so instead of waiting for ever.
    writeFileSync(join(dir, "bin", "reliable_multicast_chat"), "import sys\nsys.exit(3)\n");
    const rs = await measureEdges({
      nodes: 4,
      lone: 1,
      pacedRate: 10,
      pacedSeconds: 0,
      idleSeconds: 0,
      burstCount: 0,
      burstDrop: 0.1,
      python: dir,
      timeoutS: 30,
    });
    const py = rs.find((r) => r.kind === "python");
    expect(py?.error).toMatch(/node \d (exit 3|.*ENOENT)/);
    expect(rs.find((r) => r.kind === "rmchat")?.error).toBeUndefined();
  }, 120_000);
});
