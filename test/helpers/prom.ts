/**
 * A strict reader of the Prometheus text exposition format (0.0.4) for tests: every sample
 * must belong to a family announced by `# TYPE` (and `# HELP`) before it, names and labels
 * must be well formed, a family's samples must follow its TYPE line, values must be numbers, counters must end in `_total` and not be
 * negative. Throws on the first problem, naming the line.
 */
export interface Family {
  type: string;
  help: string;
  samples: Array<{ labels: Record<string, string>; value: number }>;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/;
const LABEL = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\["\\n])*)"(?:,|$)/;

function parseValue(s: string): number {
  if (s === "+Inf") return Number.POSITIVE_INFINITY;
  if (s === "-Inf") return Number.NEGATIVE_INFINITY;
  if (s === "NaN") return Number.NaN;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(s)) throw new Error(`bad value ${s}`);
  return Number(s);
}

function parseLabels(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  let rest = s;
  while (rest.length > 0) {
    const m = LABEL.exec(rest);
    if (!m) throw new Error(`bad labels {${s}}`);
    const name = m[1] as string;
    if (Object.hasOwn(out, name)) throw new Error(`label ${name} twice`);
    out[name] = (m[2] as string).replace(/\\(["\\n])/g, (_, c: string) => (c === "n" ? "\n" : c));
    rest = rest.slice(m[0].length);
  }
  return out;
}

export function parseExposition(text: string): Map<string, Family> {
  if (!text.endsWith("\n")) throw new Error("text must end with a newline");
  const families = new Map<string, Family>();
  const helps = new Map<string, string>();
  const seen = new Set<string>();
  let current: string | undefined;
  const lines = text.slice(0, -1).split("\n");
  for (const [i, line] of lines.entries()) {
    const where = `line ${i + 1} (${line})`;
    try {
      if (line.startsWith("# HELP ")) {
        const [name, ...help] = line.slice(7).split(" ");
        if (!name || !NAME.test(name)) throw new Error("bad name");
        if (helps.has(name)) throw new Error("HELP twice");
        helps.set(name, help.join(" "));
      } else if (line.startsWith("# TYPE ")) {
        const [name, type, ...more] = line.slice(7).split(" ");
        if (!name || !NAME.test(name) || more.length > 0) throw new Error("bad TYPE line");
        if (!["counter", "gauge", "histogram", "summary", "untyped"].includes(type ?? ""))
          throw new Error(`unknown type ${type}`);
        if (families.has(name)) throw new Error("TYPE twice");
        if (!helps.has(name)) throw new Error("TYPE without HELP before it");
        if (type === "counter" && !name.endsWith("_total"))
          throw new Error("a counter's name must end in _total");
        families.set(name, { type: type as string, help: helps.get(name) as string, samples: [] });
        current = name;
      } else if (line.startsWith("#") || line === "") {
        throw new Error("unexpected comment or blank line");
      } else {
        const m = SAMPLE.exec(line);
        if (!m) throw new Error("not a sample");
        const fam = families.get(m[1] as string);
        if (!fam) throw new Error("sample before its TYPE");
        if (m[1] !== current) throw new Error("sample apart from its family's other lines");
        const labels = parseLabels(m[3] ?? "");
        const key = `${m[1]}${JSON.stringify(Object.entries(labels).sort())}`;
        if (seen.has(key)) throw new Error("the same series twice");
        seen.add(key);
        const value = parseValue(m[4] as string);
        if (fam.type === "counter" && !(value >= 0)) throw new Error("a counter below 0");
        fam.samples.push({ labels, value });
      }
    } catch (e) {
      throw new Error(`${where}: ${(e as Error).message}`);
    }
  }
  return families;
}
