// One pino record as one human line: the daemon's foreground output on a
// terminal and `portmand logs`. Written here rather than taken from
// pino-pretty so that both ends share it without a dependency, and so that
// every string (service names, params, error messages from clients) is
// escaped: a log line must never move the cursor, recolour the terminal or
// start a fake second line.
import type { Paint } from './cli/format.ts';
import { escapeControl } from './escape.ts';

export type LogRecord = Record<string, unknown>;

export const LEVELS: Readonly<Record<string, number>> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };

export function levelName(level: unknown): string {
  if (typeof level === 'string') return level;
  const found = Object.entries(LEVELS).find(([, n]) => n === level);
  return found ? found[0] : String(level);
}

const HIDDEN = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'err', 'audit']);

/** "2026-11-26T00:40:01.123Z INFO  message key=value ..." (+ an error's stack, indented). */
export function formatLogRecord(rec: LogRecord, p: Paint): string {
  const time = typeof rec.time === 'number' || typeof rec.time === 'string' ? new Date(rec.time).toISOString() : '-';
  const name = levelName(rec.level);
  const level = paintLevel(name.toUpperCase().padEnd(5), name, p);
  const msg = typeof rec.msg === 'string' ? escapeControl(rec.msg) : '';
  const tag = rec.audit === true ? `${p.cyan('audit')} ` : '';
  const fields = Object.entries(rec)
    .filter(([k, v]) => !HIDDEN.has(k) && v !== undefined)
    .map(([k, v]) => `${p.dim(`${escapeControl(k)}=`)}${value(v)}`);
  const head = [p.dim(time), level, `${tag}${msg}`, ...fields].filter(Boolean).join(' ');
  return [head, ...errorLines(rec.err)].join('\n');
}

function value(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? escapeControl(v) : escapeControl(JSON.stringify(v));
  // JSON.stringify already escapes C0 controls in strings; escapeControl catches C1 and bidi.
  return escapeControl(JSON.stringify(v) ?? String(v));
}

function errorLines(err: unknown): string[] {
  if (err === undefined || err === null) return [];
  if (typeof err !== 'object') return [`    err: ${value(err)}`];
  const e = err as { type?: unknown; message?: unknown; stack?: unknown };
  if (typeof e.stack === 'string') return e.stack.split('\n').map((line) => `    ${escapeControl(line)}`);
  return [`    err: ${value(err)}`];
}

function paintLevel(text: string, name: string, p: Paint): string {
  if (name === 'error' || name === 'fatal') return p.red(text);
  if (name === 'warn') return p.yellow(text);
  if (name === 'info') return p.green(text);
  return p.dim(text);
}

/** Parses one log line; a line that is not a JSON object is shown as a message, escaped. */
export function parseLogLine(line: string): LogRecord {
  try {
    const rec: unknown = JSON.parse(line);
    if (rec && typeof rec === 'object' && !Array.isArray(rec)) return rec as LogRecord;
  } catch {
    // not JSON: a startup message on stderr, a line from another program
  }
  return { msg: line };
}
