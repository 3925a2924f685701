// Configuration: environment variables, then an optional JSON config file,
// then embedded defaults. `buildConfig` is pure; `readConfig` is the only
// place in the daemon that reads process.env.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROTOCOLS, type Protocol, type Range } from '../client/protocol.ts';
import { defaultSocketPath, defaultStateDir, type PathContext } from '../client/paths.ts';
import { BUILTIN_RANGES } from './core/ranges.ts';
import type { SyncMode } from './store/store.ts';

export interface ConfiguredReservation {
  port: number;
  protocol: Protocol;
  for?: string;
  reason?: string;
}

export interface Config {
  socketPath: string;
  stateDir: string;
  logFile: string | null;
  logLevel: string;
  configFile: string | null;
  scanIntervalSec: number;
  healthIntervalSec: number;
  ranges: Range[];
  reservations: ConfiguredReservation[];
  /** Let the socket's group connect (mode 0660 instead of 0600). */
  groupAccess: boolean;
  /** 'ack': fdatasync before each reply; 'background' (default): right after it. Both survive a daemon crash. */
  sync: SyncMode;
  /** Keep automatic allocations out of the OS's ephemeral port range. */
  avoidEphemeral: boolean;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

function positiveInt(value: unknown, what: string): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) throw new ConfigError(`${what} must be a whole number of seconds >= 1, got ${JSON.stringify(value)}`);
  return n;
}

function syncMode(value: unknown): SyncMode {
  if (value !== 'ack' && value !== 'background') throw new ConfigError(`PORTMAND_SYNC / sync must be "ack" or "background", got ${JSON.stringify(value)}`);
  return value;
}

function port(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65535) throw new ConfigError(`${what} must be a port 1..65535, got ${JSON.stringify(value)}`);
  return value;
}

function fileRanges(raw: unknown, file: string): Range[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw new ConfigError(`${file}: "ranges" must be an array of { name, start, end, purpose? }`);
  return raw.map((r: Record<string, unknown>, i) => {
    const where = `${file}: ranges[${i}]`;
    if (typeof r?.name !== 'string' || !/^[a-z0-9][a-z0-9._-]{0,62}$/.test(r.name)) throw new ConfigError(`${where}.name must be 1-63 chars of a-z 0-9 . _ -`);
    if (BUILTIN_RANGES.some((b) => b.name === r.name)) throw new ConfigError(`${where}.name "${r.name}" is a built-in range name`);
    const start = port(r.start, `${where}.start`);
    const end = port(r.end, `${where}.end`);
    if (start > end) throw new ConfigError(`${where}: start ${start} is after end ${end}`);
    return { name: r.name, start, end, purpose: typeof r.purpose === 'string' ? r.purpose : 'configured' };
  });
}

function isProtocol(value: unknown): value is Protocol {
  return (PROTOCOLS as readonly unknown[]).includes(value);
}

function fileReservations(raw: unknown, file: string): ConfiguredReservation[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw new ConfigError(`${file}: "reservations" must be an array of { port, protocol?, for?, reason? }`);
  return raw.map((r: Record<string, unknown>, i) => {
    const where = `${file}: reservations[${i}]`;
    const protocol: unknown = r?.protocol ?? 'tcp';
    if (!isProtocol(protocol)) throw new ConfigError(`${where}.protocol must be one of ${PROTOCOLS.map((p) => `"${p}"`).join(', ')}`);
    return {
      port: port(r?.port, `${where}.port`),
      protocol,
      ...(typeof r.for === 'string' && { for: r.for }),
      ...(typeof r.reason === 'string' && { reason: r.reason }),
    };
  });
}

/** Builds the configuration from environment variables and the parsed config file (pure). */
export function buildConfig(env: Env, file: { path: string; json: Record<string, unknown> } | null, ctx: PathContext): Config {
  const f = file?.json ?? {};
  const name = file?.path ?? 'config';
  const ranges = [...BUILTIN_RANGES, ...fileRanges(f.ranges, name)];
  const dupe = ranges.find((r, i) => ranges.findIndex((o) => o.name === r.name) !== i);
  if (dupe) throw new ConfigError(`${name}: range "${dupe.name}" is defined twice`);
  const stateDir = defaultStateDir(env, ctx);
  const socketPath = defaultSocketPath(env, ctx);
  const maxSocketBytes = ctx.platform === 'linux' ? 107 : 103;
  if (Buffer.byteLength(socketPath) > maxSocketBytes) {
    throw new ConfigError(`socket path ${socketPath} is ${Buffer.byteLength(socketPath)} bytes; Unix sockets allow at most ${maxSocketBytes} here: set PORTMAND_SOCKET to a shorter path`);
  }
  return {
    socketPath,
    stateDir,
    logFile: env.PORTMAND_LOG_FILE || null,
    logLevel: env.PORTMAND_LOG_LEVEL || (typeof f.logLevel === 'string' ? f.logLevel : 'info'),
    configFile: file?.path ?? null,
    scanIntervalSec: positiveInt(env.PORTMAND_SCAN_INTERVAL ?? f.scanIntervalSec ?? 10, 'PORTMAND_SCAN_INTERVAL / scanIntervalSec'),
    healthIntervalSec: positiveInt(env.PORTMAND_HEALTH_INTERVAL ?? f.healthIntervalSec ?? 30, 'PORTMAND_HEALTH_INTERVAL / healthIntervalSec'),
    ranges,
    reservations: fileReservations(f.reservations, name),
    groupAccess: f.groupAccess === true,
    sync: syncMode(env.PORTMAND_SYNC ?? f.sync ?? 'background'),
    avoidEphemeral: f.avoidEphemeral !== false,
  };
}

/** Reads the real environment and the config file named by PORTMAND_CONFIG, if any. */
export function readConfig(env: Env = process.env): Config {
  const ctx: PathContext = { platform: process.platform, uid: process.getuid?.() ?? -1, home: os.homedir() };
  const filePath = env.PORTMAND_CONFIG ? path.resolve(env.PORTMAND_CONFIG) : null;
  let file: { path: string; json: Record<string, unknown> } | null = null;
  if (filePath) {
    let text: string;
    try {
      text = readFileSync(filePath, 'utf8');
    } catch (err) {
      throw new ConfigError(`cannot read config file ${filePath} (PORTMAND_CONFIG): ${(err as Error).message}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new ConfigError(`config file ${filePath} is not valid JSON: ${(err as Error).message}`);
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new ConfigError(`config file ${filePath} must hold a JSON object`);
    file = { path: filePath, json: json as Record<string, unknown> };
  }
  return buildConfig(env, file, ctx);
}
