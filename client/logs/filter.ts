// Which log records `portmand logs` shows: pure functions of the record and
// the options, so the file reader and the journal reader share them.
import { LEVELS, type LogRecord } from '../log-format.ts';

export interface LogFilter {
  /** Lowest pino level shown (e.g. 40 for warn). */
  minLevel?: number;
  /** Only records at or after this time (ms). */
  since?: number;
  /** Only records about this service. */
  service?: string;
  /** Only audit records (every change and refusal). */
  audit?: boolean;
}

export function matches(rec: LogRecord, f: LogFilter): boolean {
  if (f.minLevel !== undefined && !(typeof rec.level === 'number' && rec.level >= f.minLevel)) return false;
  if (f.since !== undefined && !(typeof rec.time === 'number' && rec.time >= f.since)) return false;
  if (f.audit && rec.audit !== true) return false;
  if (f.service !== undefined && !mentions(rec, f.service)) return false;
  return true;
}

// Audit records carry the service in params (name or service); others in a field of their own.
function mentions(rec: LogRecord, service: string): boolean {
  const params = typeof rec.params === 'object' && rec.params !== null ? (rec.params as Record<string, unknown>) : {};
  return [rec.service, rec.name, params.name, params.service].includes(service);
}

/** A level name ("warn") as its number, or null. */
export function levelNumber(name: string): number | null {
  return LEVELS[name.toLowerCase()] ?? null;
}

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "10m", "2h", "1d", "30s" before now, or an ISO-8601 time; null when it is neither. */
export function parseSince(text: string, now: number): number | null {
  const rel = /^(\d+)([smhd])$/.exec(text);
  if (rel) return now - Number(rel[1]) * (UNITS[rel[2] as string] as number);
  if (!/^\d{4}-\d\d-\d\d/.test(text)) return null;
  const t = Date.parse(text);
  return Number.isNaN(t) ? null : t;
}
