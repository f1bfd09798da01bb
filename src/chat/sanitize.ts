/**
 * Text from peers is data: control characters (C0, DEL, C1), which start terminal escape
 * sequences (ESC [ … / OSC …), and bidi overrides are replaced with visible escapes, so a
 * delivered message can never move the cursor, clear, recolour or retitle a terminal,
 * and always stays on one line.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

export function sanitize(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    if (code === 0x0a) return "\\n";
    if (code === 0x09) return "\\t";
    if (code === 0x0d) return "\\r";
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16)}`;
  });
}

/** JSON.stringify leaves DEL, C1 and bidi controls raw: escape them too, still valid JSON. */
export function safeJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/**
 * One `--json` event line: `time` (ISO 8601) and `event` first, then the fields (which cannot
 * replace those two).
 */
export function jsonEvent(
  event: string,
  fields: Record<string, unknown>,
  time = new Date(),
): string {
  const { time: _t, event: _e, ...rest } = fields;
  return safeJson({ time: time.toISOString(), event, ...rest });
}
