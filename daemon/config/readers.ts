// The readers of environment variables (PORTMAND_*), and the rules they share
// with the config file's schema (config/schema.ts): a variable is a string, so
// it is parsed here; the file is JSON, checked by its schema. A Trace collects
// where each value came from and every problem, so that one run reports them
// all. Nothing here loads TypeBox: the daemon starts without it.
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

/** A Unix group name (`socket.group`, `access.adminGroup`, PORTMAND_SOCKET_GROUP), as useradd accepts one. */
export const GROUP_NAME = '^[A-Za-z_][A-Za-z0-9_.-]{0,31}\\$?$';

/** `socket.mode` as the file writes it, and the mode it means. */
export const SOCKET_MODES: Record<string, number> = { '0600': 0o600, '0660': 0o660, '0666': 0o666 };

/** Reads a variable's text into a value, or throws a ConfigError naming `where` (the variable). */
export type EnvReader<T> = (value: string, where: string) => T;

/** A whole number in [min, max], written as decimal digits. */
export function int(value: string, where: string, min: number, max: number, unit = ''): number {
  const n = /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${where} must be a whole number${unit} from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return n;
}

export const seconds = (value: string, where: string): number => int(value, where, 1, MAX_INTERVAL_SEC, ' of seconds');

export function oneOf<T extends string>(value: string, where: string, choices: readonly T[]): T {
  if (!choices.includes(value as T))
    throw new ConfigError(`${where} must be one of ${choices.map((c) => `"${c}"`).join(', ')}, got ${JSON.stringify(value)}`);
  return value as T;
}

export function groupName(value: string, where: string): string {
  if (!new RegExp(GROUP_NAME).test(value)) throw new ConfigError(`${where} must be a group name, got ${JSON.stringify(value)}`);
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

function valueAt(json: Record<string, unknown>, keyPath: string): unknown {
  let at: unknown = json;
  for (const part of keyPath.split('.'))
    at = typeof at === 'object' && at !== null && !Array.isArray(at) ? (at as Record<string, unknown>)[part] : undefined;
  return at;
}

/**
 * One setting: the variable `envName`, read by `reader`, else the file's
 * `key`, taken as it is (the file has passed its schema), else `fallback`. It
 * records the setting's source under its file key (else its variable); a bad
 * variable becomes a problem while the fallback stands in, so the next
 * settings are read too.
 */
export function read<T>(
  env: Env,
  file: ConfigFile | null,
  envName: string | null,
  key: string | null,
  fallback: T,
  reader: EnvReader<T> | null,
  trace: Trace,
): T {
  const s = setting(env, file, envName, key);
  trace.sources[(key ?? envName)!] = s?.source ?? DEFAULT;
  if (s === undefined) return fallback;
  if (s.source.from !== 'env') return s.value as T;
  return attempt(trace, () => reader!(s.value as string, s.where), fallback);
}

/** Records where a value that is not read by `read` came from. */
export function note(trace: Trace, name: string, env: Env, file: ConfigFile | null, envName: string | null, key: string | null): void {
  trace.sources[name] = setting(env, file, envName, key)?.source ?? DEFAULT;
}

/** Runs a step; its ConfigError's problems are noted and the fallback stands in. */
export function attempt<T>(trace: Trace, fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    trace.problems.push(...err.problems);
    return fallback;
  }
}
