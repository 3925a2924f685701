// What `portmand config` shows (the effective configuration, each value with
// its source) and what `portmand config check` says of a file. The daemon
// answers daemon.config with effectiveConfig(); the CLI imports this file
// lazily to compute the same view when no daemon runs, and to check a file.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { EffectiveConfig } from '../../client/protocol.ts';
import { configFilePath, type PathContext } from '../../client/paths.ts';
import { buildConfig, ConfigError, loadConfig, parseConfigFile, type Config } from './config.ts';

type Env = Record<string, string | undefined>;

/** The configuration as daemon.config shows it: settings in the order of Config's fields, each with its source. */
export function effectiveConfig(config: Config): EffectiveConfig {
  const keys = Object.keys(config.sources);
  const ordered = Object.keys(config).flatMap((field) => keys.filter((k) => k === field || k.startsWith(`${field}.`)));
  return {
    file: { path: config.configFile ?? config.configLocation.path, from: config.configLocation.from, found: config.configFile !== null },
    settings: ordered.map((key) => ({ key, value: shown(key, valueAt(config, key)), source: config.sources[key]! })),
  };
}

/** The configuration a daemon started with this environment would use (reads the config file). */
export async function localConfig(env: Env, ctx: PathContext): Promise<EffectiveConfig> {
  return effectiveConfig(await loadConfig(env, ctx));
}

export interface CheckResult {
  path: string;
  /** false: no file at the default location (a daemon runs on embedded defaults). */
  found: boolean;
  /** Every problem, each naming the file and key path; empty when the file is valid. */
  problems: string[];
}

/**
 * Checks a config file: the one given, else the one a daemon would read
 * (PORTMAND_CONFIG, else the default location). The file is read as if no
 * variable overrode it, so every key of it is checked.
 */
export async function checkConfigFile(given: string | undefined, env: Env, ctx: PathContext): Promise<CheckResult> {
  const location = given === undefined ? configFilePath(env, ctx) : { path: given, from: 'env' as const };
  const filePath = path.resolve(location.path);
  let text: string;
  try {
    text = await readFile(filePath, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (given === undefined && location.from === 'default' && code === 'ENOENT') return { path: filePath, found: false, problems: [] };
    return { path: filePath, found: code !== 'ENOENT', problems: [`cannot read config file ${filePath}: ${(err as Error).message}`] };
  }
  try {
    await buildConfig({}, parseConfigFile(filePath, text), ctx);
    return { path: filePath, found: true, problems: [] };
  } catch (err) {
    if (err instanceof ConfigError) return { path: filePath, found: true, problems: err.problems };
    throw err;
  }
}

function valueAt(config: Config, key: string): unknown {
  let at: unknown = config;
  for (const part of key.split('.')) at = (at as Record<string, unknown> | null)?.[part];
  return at ?? null;
}

// A socket mode reads as the file writes it: "0660", not 432.
function shown(key: string, value: unknown): unknown {
  if (key === 'socket.mode' && typeof value === 'number') return `0${value.toString(8)}`;
  // Anyone who can reach the socket may ask: a webhook's credentials, path and query (often a secret token) are not shown.
  if (key === 'alerts' && Array.isArray(value))
    return value.map((a: Record<string, unknown>) => (typeof a.webhook === 'string' ? { ...a, webhook: redactUrl(a.webhook) } : a));
  return value;
}

/** scheme://host of a URL: its user-info, query, fragment and path (Slack's and Discord's webhooks carry their secret there) are not shown. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    const hidden = u.username || u.password || u.search || u.hash || u.pathname !== '/';
    return `${u.protocol}//${u.host}${hidden ? ' (path, credentials, query and fragment not shown)' : ''}`;
  } catch {
    return '(not shown)';
  }
}
