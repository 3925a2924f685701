// The readers of configuration values: every setting, from the environment or
// the config file, is read by one of these, and a bad value is refused with a
// message naming where it came from (the variable, or the file and key). A
// Trace collects where each value came from and every problem, so that one
// run reports them all.
import type { ConfigSource } from '../../client/protocol.ts';

/** A bad setting; `problems` holds every one found (one a line in the message), each naming its variable or file and key. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly problems: string[];
  constructor(problems: string | string[]) {
    const list = typeof problems === 'string' ? [problems] : problems;
    super(list.join('\n'));
    this.problems = list;
  }
}

export type Env = Record<string, string | undefined>;
export type ConfigFile = { path: string; json: Record<string, unknown> };

/** What buildConfig records as it reads: where each value came from, and every problem, so that one run reports them all. */
export interface Trace {
  sources: Record<string, ConfigSource>;
  problems: string[];
}

export const DEFAULT: ConfigSource = { from: 'default' };

/** A day: an interval must stay far below the 2^31-1 ms a timer holds (setInterval turns longer ones into 1 ms). */
export const MAX_INTERVAL_SEC = 86_400;

// The readers: every setting, from the environment or the file, is read by one
// of these, and a bad value is refused with a message naming where it came
// from (the variable, or the file and key).

/** A whole number in [min, max], as a number or as decimal digits (the environment's form). */
export function int(value: unknown, where: string, min: number, max: number, unit = ''): number {
  const n = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${where} must be a whole number${unit} from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return n;
}

export function oneOf<T extends string>(value: unknown, where: string, choices: readonly T[]): T {
  if (!choices.includes(value as T))
    throw new ConfigError(`${where} must be one of ${choices.map((c) => `"${c}"`).join(', ')}, got ${JSON.stringify(value)}`);
  return value as T;
}

/** true or false, as a boolean or as the word (the environment's form). */
export function bool(value: unknown, where: string): boolean {
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new ConfigError(`${where} must be true or false, got ${JSON.stringify(value)}`);
}

export function text(value: unknown, where: string): string {
  if (typeof value !== 'string') throw new ConfigError(`${where} must be a string, got ${JSON.stringify(value)}`);
  return value;
}

/**
 * A setting's raw value and where it came from: the environment variable when
 * it is set and not empty, else the file's key (a dotted path reaches into
 * objects: `socket.group`), else undefined.
 */
export function setting(
  env: Env,
  file: ConfigFile | null,
  envName: string | null,
  key: string | null,
): { value: unknown; where: string; source: ConfigSource } | undefined {
  if (envName !== null && env[envName] !== undefined && env[envName] !== '')
    return { value: env[envName], where: envName, source: { from: 'env', variable: envName } };
  const value = key !== null && file ? valueAt(file.json, key) : undefined;
  if (value !== undefined) return { value, where: `${file!.path}: ${key}`, source: { from: 'file', path: file!.path, key: key! } };
  return undefined;
}

export function valueAt(json: Record<string, unknown>, keyPath: string): unknown {
  let at: unknown = json;
  for (const part of keyPath.split('.'))
    at = typeof at === 'object' && at !== null && !Array.isArray(at) ? (at as Record<string, unknown>)[part] : undefined;
  return at;
}

/**
 * One setting, read by `reader`. Given the trace, it records the setting's
 * source under its file key (else its variable), and a bad value becomes a
 * problem there while the fallback stands in, so the next settings are read too.
 */
export function read<T>(
  env: Env,
  file: ConfigFile | null,
  envName: string | null,
  key: string | null,
  fallback: T,
  reader: (value: unknown, where: string) => T,
  trace?: Trace,
): T {
  const s = setting(env, file, envName, key);
  if (trace) trace.sources[(key ?? envName)!] = s?.source ?? DEFAULT;
  return s === undefined ? fallback : attempt(trace, () => reader(s.value, s.where), fallback);
}

/** Records where a value that is not read by `read` came from. */
export function note(trace: Trace, name: string, env: Env, file: ConfigFile | null, envName: string | null, key: string | null): void {
  trace.sources[name] = setting(env, file, envName, key)?.source ?? DEFAULT;
}

/** Runs a reader; with a trace, its problems are noted and the fallback stands in. */
export function attempt<T>(trace: Trace | undefined, fn: () => T, fallback: T): T {
  if (!trace) return fn();
  try {
    return fn();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    trace.problems.push(...err.problems);
    return fallback;
  }
}

/** Maps every item, so that a problem in one does not hide the next one's: all are thrown together. */
export function every<T, R>(items: T[], fn: (item: T, i: number) => R): R[] {
  const problems: string[] = [];
  const out: R[] = [];
  items.forEach((item, i) => {
    try {
      out.push(fn(item, i));
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems.push(...err.problems);
    }
  });
  if (problems.length) throw new ConfigError(problems);
  return out;
}

/** A key nothing reads is refused (a typo would otherwise be silently ignored): each one, by its path. */
export function refuseUnknown(obj: Record<string, unknown>, where: string, known: readonly string[]): void {
  const unknown = Object.keys(obj).filter((k) => !known.includes(k));
  if (unknown.length) throw new ConfigError(unknown.map((k) => `${keyPath(where, k)} is not a known key (expected: ${known.join(', ')})`));
}

/** `where` + key, as a path: `file: socket.group`; a key that is not a plain name is quoted (`socket["a b"]`). */
export function keyPath(where: string, key: string): string {
  if (!/^[A-Za-z_$][\w$-]*$/.test(key)) return `${where}[${JSON.stringify(key)}]`;
  return where.endsWith(': ') ? `${where}${key}` : `${where}.${key}`;
}

export const port = (value: unknown, where: string): number => int(value, where, 1, 65535);
export const seconds = (value: unknown, where: string): number => int(value, where, 1, MAX_INTERVAL_SEC, ' of seconds');

export function list(raw: unknown, where: string, shape: string): Array<Record<string, unknown>> {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw new ConfigError(`${where} must be an array of ${shape}`);
  return raw.map((r: unknown, i) => {
    if (typeof r !== 'object' || r === null || Array.isArray(r)) throw new ConfigError(`${where}[${i}] must be an object ${shape}`);
    return r as Record<string, unknown>;
  });
}

/** An object of known keys, each read by its reader; an unknown key or a wrong type names the key path. */
export function keyed<T extends object>(
  raw: unknown,
  where: string,
  defaults: T,
  readers: { [K in keyof T]: (value: unknown, where: string) => T[K] },
): T {
  if (raw === undefined) return { ...defaults };
  const keys = Object.keys(readers).join(', ');
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(`${where} must be an object { ${keys} }`);
  const out = { ...defaults };
  for (const [key, value] of Object.entries(raw)) {
    if (!Object.hasOwn(readers, key)) throw new ConfigError(`${where}.${key} is not a known key (expected: ${keys})`);
    out[key as keyof T] = readers[key as keyof T](value, `${where}.${key}`);
  }
  return out;
}

export const groupName = (value: unknown, where: string): string => {
  if (typeof value !== 'string' || !/^[A-Za-z_][A-Za-z0-9_.-]{0,31}\$?$/.test(value))
    throw new ConfigError(`${where} must be a group name, got ${JSON.stringify(value)}`);
  return value;
};
