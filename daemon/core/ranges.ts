// Port ranges: the three built in from the seed, named ones from the config
// file, and inline "START-END" strings from a request.
import type { Range } from '../../client/protocol.ts';
import { invalidParams } from './errors.ts';

export interface PortSpan {
  start: number;
  end: number;
}

export const BUILTIN_RANGES: readonly Range[] = [
  { name: 'system', start: 0, end: 1023, purpose: 'well-known system ports; never allocated unless asked for explicitly' },
  { name: 'registered', start: 1024, end: 49151, purpose: 'assignable to long-lived services' },
  { name: 'dynamic', start: 49152, end: 65535, purpose: 'temporary leases' },
];

const RANGE_RE = /^(\d{1,5})-(\d{1,5})$/;

/** Parses "START-END" (inclusive); null when the text is not of that shape or out of 0..65535. */
export function parseSpan(text: string): PortSpan | null {
  const m = RANGE_RE.exec(text.trim());
  if (!m) return null;
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (start > end || end > 65535) return null;
  return { start, end };
}

/**
 * Resolves a `range` parameter: a configured range name or an inline span.
 * Throws -32602 naming `field` when it is neither.
 */
export function resolveRange(text: string, ranges: readonly Range[], field = 'range'): Range {
  const named = ranges.find((r) => r.name === text);
  if (named) return named;
  const span = parseSpan(text);
  if (!span) {
    const names = ranges.map((r) => r.name).join(', ');
    throw invalidParams(field, `must be a range name (${names}) or "START-END" within 0-65535, got ${JSON.stringify(text)}`);
  }
  return { name: `${span.start}-${span.end}`, ...span, purpose: 'inline' };
}

export function contains(span: PortSpan, port: number): boolean {
  return port >= span.start && port <= span.end;
}
