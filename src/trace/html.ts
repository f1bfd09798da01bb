/** Helpers for the self-contained HTML pages (diagrams, benchmark plots): no network fetches. */

/** Escape text for HTML/SVG element content and double-quoted attributes. */
export function esc(s: string): string {
  return s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/** JSON safe inside a <script> element (no "</script>", no U+2028/2029 surprises). */
export function scriptJson(v: unknown): string {
  return JSON.stringify(v)
    .replace(/</g, "\\u003c")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

/** A number for an SVG attribute: at most 2 decimals, no trailing zeros. */
export const px = (x: number): string => String(Math.round(x * 100) / 100);

/** The page shell. A Content-Security-Policy forbids every fetch: the file must stand alone. */
export function page(title: string, css: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>${esc(title)}</title>
<style>
body{font:13px/1.35 system-ui,sans-serif;margin:0;color:#222;background:#fff}
header{padding:8px 12px;border-bottom:1px solid #ddd}
h1{font-size:16px;margin:0 0 4px}
${css}
</style></head><body>
${body}
</body></html>
`;
}
