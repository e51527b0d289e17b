/**
 * The one way text from outside (inputs, files, pull requests, AWS answers, docker output) reaches
 * the runner's log or rendered markdown. Pure functions, so every hostile case is a table row.
 *
 * The runner reads a workflow command from any output line that starts with `::` after leading
 * whitespace, and a legacy `##[command]` anywhere in a line. A zero-width space after the first
 * character of such a marker keeps the text readable and makes it inert.
 */
const ZWSP = '\u200b';

/** Text that can be printed as log lines without the runner reading a command in any of them. */
export function inertLines(text: string): string {
  return text
    .split(/\r\n|\r|\n/)
    .map((line) => line.replace(/^(\s*):/, `$1:${ZWSP}`).replace(/##\[/g, `#${ZWSP}#[`))
    .join('\n');
}

/** A single-line value for log or annotation text: line breaks shown as ⏎, never a new line. */
export function oneLine(text: string): string {
  return text.replace(/\r\n|\r|\n/g, ' ⏎ ');
}

const HTML: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', '|': '&#124;' };
const htmlEscape = (s: string): string => s.replace(/[&<>"|]/g, (c) => HTML[c] ?? c);

/**
 * Inline markdown text: no emphasis, code, link, image, HTML or table-cell break, one line. Only
 * what can start markup is escaped, so the raw summary stays readable.
 */
export function mdText(text: string): string {
  const escaped = oneLine(text)
    .replace(/[\\`*_[\]~]/g, (c) => `\\${c}`)
    .replace(/^(\s*)([#>+-]|\d+[.)])/, '$1\\$2');
  return htmlEscape(escaped);
}

/** Inline code for a table cell or a sentence: HTML `<code>`, so no backtick can close it. */
export function mdCode(text: string): string {
  return `<code>${htmlEscape(oneLine(text))}</code>`;
}

/** A fenced block that no line of the text can close: the fence is longer than any run of backticks. */
export function mdFence(lines: readonly string[], info = ''): string[] {
  const longest = Math.max(
    2,
    ...lines.map((l) => Math.max(0, ...(l.match(/`+/g) ?? []).map((r) => r.length))),
  );
  const fence = '`'.repeat(longest + 1);
  return [`${fence}${info}`, ...lines.flatMap((l) => l.split(/\r\n|\r|\n/)), fence];
}

/** A link only to an http(s) address, its text escaped; anything else is shown as code. */
export function mdLink(label: string, url: string): string {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || !['http:', 'https:'].includes(parsed.protocol)) return mdCode(url);
  return `[${mdText(label)}](${parsed.href.replace(/\(/g, '%28').replace(/\)/g, '%29')})`;
}
