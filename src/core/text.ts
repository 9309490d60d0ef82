// Text the app generates for other programs (a shell, a spreadsheet, Python), escaped for that program:
// names come from model files and can hold anything.

/**
 * One shell word (POSIX sh, bash, zsh): left bare when it is only characters no shell treats specially,
 * else single-quoted, where nothing is special but the quote itself (closed, escaped, reopened).
 */
export function shellQuote(s: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * One CSV cell (RFC 4180) safe to open in a spreadsheet: a cell starting with = + - @ (or a tab or
 * carriage return, which some spreadsheets skip first) would be read as a formula, so it gets a leading
 * apostrophe; a cell with a quote, comma or line break is quoted. Numbers are written as numbers.
 */
export function csvCell(v: string | number): string {
  if (typeof v === 'number') return String(v);
  const t = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
}

/** Rows of cells as CSV text, CRLF-free: one `\n` per row, the last one too. */
export function csvRows(rows: readonly (readonly (string | number)[])[]): string {
  return rows.map((row) => row.map(csvCell).join(',')).join('\n') + '\n';
}

/**
 * A Python str literal for any string: JSON's escapes are all valid in Python and JSON escapes every
 * control character; the Unicode line separators it leaves raw are escaped too, so editors show one line.
 */
export function pyString(s: string): string {
  return JSON.stringify(s).replace(/[\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}

/**
 * Text safe inside a one-line comment of generated code: every line break or control character (Python
 * ends a comment at \n or \r and refuses a NUL) and Unicode line/paragraph separator becomes a space.
 */
export function commentText(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ');
}
