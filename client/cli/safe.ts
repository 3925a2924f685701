// Every string the daemon sends is hostile on a terminal: a service name, a
// range name or a listener's process name could carry escape sequences that
// move the cursor, retitle the window or hide text. The verbs of this issue
// (history, metrics, top, charts) print daemon strings only through safe(),
// so one function decides how they are escaped.
// (The lead may point this at the CLI's shared escaper at merge.)

// C0 controls, DEL and C1 controls, and the Unicode line/paragraph separators and bidi overrides.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** The text with every control character shown as a visible escape (`\x1b`, `\n`, `\u202e`). */
export function safe(text: string): string {
  return text.replace(UNSAFE, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
