// Parameter validation for the method table. Each reader returns the typed
// value or throws -32602 naming the field and the problem, so a handler reads
// like a schema and a bad request changes nothing.
import { isIP } from 'node:net';
import { PROTOCOLS, type Protocol } from '../../client/protocol.ts';
import { invalidParams } from '../core/errors.ts';

export type Params = Record<string, unknown>;

/** Rejects parameters the method does not know: a typo should not be silently ignored. */
export function only(params: Params, allowed: readonly string[]): void {
  for (const key of Object.keys(params)) {
    if (!allowed.includes(key)) throw invalidParams(key, `is not a parameter of this method (expected: ${allowed.join(', ') || 'none'})`);
  }
}

export function optString(params: Params, field: string, opts: { pattern?: RegExp; hint?: string; max?: number } = {}): string | undefined {
  const v = params[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw invalidParams(field, 'must be a string');
  if (opts.max !== undefined && v.length > opts.max) throw invalidParams(field, `must be at most ${opts.max} characters`);
  if (opts.pattern && !opts.pattern.test(v)) throw invalidParams(field, opts.hint ?? `must match ${opts.pattern}`);
  return v;
}

export function reqString(params: Params, field: string, opts: { pattern?: RegExp; hint?: string; max?: number } = {}): string {
  const v = optString(params, field, opts);
  if (v === undefined) throw invalidParams(field, 'is required');
  return v;
}

export function optInt(params: Params, field: string, min: number, max: number): number | undefined {
  const v = params[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw invalidParams(field, `must be a whole number ${min}..${max}`);
  return v;
}

export function reqInt(params: Params, field: string, min: number, max: number): number {
  const v = optInt(params, field, min, max);
  if (v === undefined) throw invalidParams(field, 'is required');
  return v;
}

export const optPort = (params: Params, field = 'port') => optInt(params, field, 1, 65535);
export const reqPort = (params: Params, field = 'port') => reqInt(params, field, 1, 65535);

export function optBool(params: Params, field: string): boolean | undefined {
  const v = params[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw invalidParams(field, 'must be true or false');
  return v;
}

export function optEnum<T extends string>(params: Params, field: string, values: readonly T[]): T | undefined {
  const v = params[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !values.includes(v as T)) throw invalidParams(field, `must be one of ${values.map((x) => `"${x}"`).join(', ')}`);
  return v as T;
}

export function protocol(params: Params): Protocol {
  return optEnum(params, 'protocol', PROTOCOLS) ?? 'tcp';
}

export function optStringArray(params: Params, field: string, opts: { pattern?: RegExp; hint?: string; max?: number } = {}): string[] | undefined {
  const v = params[field];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw invalidParams(field, 'must be an array of strings');
  if (opts.max !== undefined && v.length > opts.max) throw invalidParams(field, `must have at most ${opts.max} entries`);
  for (const x of v as string[]) if (opts.pattern && !opts.pattern.test(x)) throw invalidParams(field, opts.hint ?? `entries must match ${opts.pattern}`);
  return v as string[];
}

/** Service names: the contract's 1-63 chars of a-z 0-9 . _ -, starting with a letter or digit. */
export const SERVICE_NAME = { pattern: /^[a-z0-9][a-z0-9._-]{0,62}$/, hint: 'must be 1-63 characters of a-z 0-9 . _ - starting with a letter or digit' };

/** A bind address: an IPv4 or IPv6 literal (a name would need a DNS lookup, and binds to whatever it resolves to). */
export function optHost(params: Params, field = 'host'): string | undefined {
  const v = optString(params, field);
  if (v !== undefined && isIP(v) === 0) throw invalidParams(field, 'must be an IP address such as "0.0.0.0", "127.0.0.1", "::" or "::1"');
  return v;
}
