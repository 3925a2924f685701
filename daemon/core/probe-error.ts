// The text a failed health check keeps and announces. Probe errors repeat
// whatever they were given (fetch puts the whole URL in its message), so the
// text is cleaned once here before it is stored, sent in events or printed.

const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#]*@/gi;
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
const MAX_CHARS = 300;

/**
 * `error` with any URL user-info replaced by "***" (a password must not reach
 * every subscriber and log) and control characters written out as \uXXXX.
 */
export function probeErrorText(error: string): string {
  const text = error.replace(URL_CREDENTIALS, '$1***@').replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return text.length > MAX_CHARS ? `${text.slice(0, MAX_CHARS - 1)}…` : text;
}
