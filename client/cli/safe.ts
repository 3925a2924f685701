// Every string the daemon sends is hostile on a terminal: a service name, a
// range name or a listener's process name could carry escape sequences that
// move the cursor, retitle the window or hide text. The verbs of this issue
// (history, metrics, top, charts) print daemon strings only through safe(),
// so one function decides how they are escaped.

import { escapeControl } from './format.ts';

/** The text with every control character shown as a visible escape (the CLI's one escaper). */
export const safe: (text: string) => string = escapeControl;
