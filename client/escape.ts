// The one rule for printing a string that the daemon, the OS or another user
// supplied: every control character is written out as text, so it shows
// instead of acting on the terminal (moving the cursor, recolouring, faking a
// new line). The CLI and the daemon's human-readable log lines both use it.

/** C0 and C1 controls, DEL, and the Unicode format characters that reorder or break lines (bidi marks, overrides and isolates, line and paragraph separators). */
export const CONTROL = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const NAMED: Readonly<Record<string, string>> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** One control character as its escape: tab as \t, ESC as \u001b. */
export const escapeChar = (c: string): string => NAMED[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** The text with every control character written out (ESC as \u001b, tab as \t). */
export function escapeControl(s: string): string {
  return s.replace(CONTROL, escapeChar);
}
