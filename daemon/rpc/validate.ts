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

/**
 * C0 and C1 controls and DEL. No parameter has a use for them, and stored
 * text is printed on terminals later, where they would be commands.
 */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

export function optString(params: Params, field: string, opts: { pattern?: RegExp; hint?: string; max?: number } = {}): string | undefined {
  const v = params[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw invalidParams(field, 'must be a string');
  if (CONTROL.test(v)) throw invalidParams(field, 'must not contain control characters');
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
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    throw invalidParams(field, `must be a whole number ${min}..${max}`);
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
  if (typeof v !== 'string' || !values.includes(v as T))
    throw invalidParams(field, `must be one of ${values.map((x) => `"${x}"`).join(', ')}`);
  return v as T;
}

export function protocol(params: Params): Protocol {
  return optEnum(params, 'protocol', PROTOCOLS) ?? 'tcp';
}

export function optStringArray(
  params: Params,
  field: string,
  opts: { pattern?: RegExp; hint?: string; max?: number } = {},
): string[] | undefined {
  const v = params[field];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw invalidParams(field, 'must be an array of strings');
  if (opts.max !== undefined && v.length > opts.max) throw invalidParams(field, `must have at most ${opts.max} entries`);
  if ((v as string[]).some((x) => CONTROL.test(x))) throw invalidParams(field, 'entries must not contain control characters');
  for (const x of v as string[])
    if (opts.pattern && !opts.pattern.test(x)) throw invalidParams(field, opts.hint ?? `entries must match ${opts.pattern}`);
  return v as string[];
}

/** An array of at most `max` ports (1..65535); an entry in error is named by its position. */
export function optPortArray(params: Params, field: string, max: number): number[] | undefined {
  const v = params[field];
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) throw invalidParams(field, 'must be an array of port numbers');
  if (v.length > max) throw invalidParams(field, `must have at most ${max} entries`);
  v.forEach((x: unknown, i) => {
    if (typeof x !== 'number' || !Number.isInteger(x) || x < 1 || x > 65535)
      throw invalidParams(field, `entry ${i} must be a whole number 1..65535`);
  });
  return v as number[];
}

/** Service names: the contract's 1-63 chars of a-z 0-9 . _ -, starting with a letter or digit. */
export const SERVICE_NAME = {
  pattern: /^[a-z0-9][a-z0-9._-]{0,62}$/,
  hint: 'must be 1-63 characters of a-z 0-9 . _ - starting with a letter or digit',
};

/**
 * An array of values from `values`. A wrong entry is named by its position
 * and kind, never printed whole: it may be nested thousands of levels deep.
 */
export function optEnumArray<T extends string>(params: Params, field: string, values: readonly T[]): T[] | undefined {
  const v = params[field];
  if (v === undefined) return undefined;
  const known = values.map((x) => `"${x}"`).join(', ');
  if (!Array.isArray(v)) throw invalidParams(field, `must be an array of: ${known}`);
  v.forEach((x: unknown, i) => {
    if (typeof x !== 'string')
      throw invalidParams(
        field,
        `entry ${i} is ${Array.isArray(x) ? 'an array' : x === null ? 'null' : `a ${typeof x}`}; each must be one of ${known}`,
      );
    if (!values.includes(x as T)) throw invalidParams(field, `entry ${i} ${JSON.stringify(x)} is not one of ${known}`);
  });
  return v as T[];
}

/** Checks that an address is one of this host's own (an I/O question: main.ts supplies the answer). */
export type LocalAddressCheck = (host: string) => Promise<boolean>;

/**
 * A bind address of this host: an IPv4 or IPv6 literal (a name would need a
 * DNS lookup, and binds to whatever it resolves to) that this host has, so
 * that a remote address is refused here rather than failing every bind probe
 * and being reported as an exhausted range.
 */
export async function optHost(params: Params, isLocal: LocalAddressCheck, field = 'host'): Promise<string | undefined> {
  const v = optString(params, field);
  if (v === undefined) return undefined;
  if (isIP(v) === 0) throw invalidParams(field, 'must be an IP address such as "0.0.0.0", "127.0.0.1", "::" or "::1"');
  if (!(await isLocal(v)))
    throw invalidParams(field, `${v} is not an address of this host: use one of its own addresses, or "0.0.0.0" or "::" for all of them`);
  return v;
}
