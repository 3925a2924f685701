// Configuration: environment variables, then an optional JSON config file,
// then embedded defaults. `buildConfig` is pure; `readConfig` is the only
// place in the daemon that reads process.env.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROTOCOLS, type Protocol, type Range } from '../client/protocol.ts';
import { defaultSocketPath, defaultStateDir, type PathContext } from '../client/paths.ts';
import { BUILTIN_RANGES } from './core/ranges.ts';
import { LOG_LEVELS, type LogLevel } from './log.ts';
import { logOutput, type LogOutput } from './log-output.ts';
import { SYNC_MODES, type SyncMode } from './store/store.ts';
import { inheritedSocketFd } from './transport/activation.ts';
import type { ConflictPolicy } from './core/auto-resolve.ts';
import { conflictPolicy } from './config-conflicts.ts';
import type { AlertRule } from './core/alerts.ts';
import { alertRules } from './config-alerts.ts';

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
  logLevel: LogLevel;
  configFile: string | null;
  scanIntervalSec: number;
  healthIntervalSec: number;
  ranges: Range[];
  reservations: ConfiguredReservation[];
  /** Let the socket's group connect (mode 0660 instead of 0600). */
  groupAccess: boolean;
  /** Config `socket`: the group and mode of a socket the daemon binds itself. */
  socket: { group: string | null; mode: number | null };
  /** A listening socket inherited from systemd (LISTEN_FDS), or null. */
  listenFd: number | null;
  /** Where and how log lines go (pretty on a terminal, the journal under systemd). */
  logOutput: LogOutput;
  /** 'ack': fdatasync before each reply; 'background' (default): right after it. Both survive a daemon crash. */
  sync: SyncMode;
  /** Keep automatic allocations out of the OS's ephemeral port range. */
  avoidEphemeral: boolean;
  health: HealthConfig;
  /** Config `conflicts`: what the daemon resolves by itself (config-conflicts.ts). */
  conflicts: ConflictPolicy;
  /** Config `alerts` (config-alerts.ts). */
  alerts: AlertRule[];
}

/** The config file's `health` object. */
export interface HealthConfig {
  /** Let health checks reach addresses that are not this host's (default false). */
  allowRemote: boolean;
  failuresBeforeUnhealthy?: number;
  successesBeforeHealthy?: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;
type ConfigFile = { path: string; json: Record<string, unknown> };

/** A day: an interval must stay far below the 2^31-1 ms a timer holds (setInterval turns longer ones into 1 ms). */
const MAX_INTERVAL_SEC = 86_400;

// The readers: every setting, from the environment or the file, is read by one
// of these, and a bad value is refused with a message naming where it came
// from (the variable, or the file and key).

/** A whole number in [min, max], as a number or as decimal digits (the environment's form). */
function int(value: unknown, where: string, min: number, max: number, unit = ''): number {
  const n = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${where} must be a whole number${unit} from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return n;
}

function oneOf<T extends string>(value: unknown, where: string, choices: readonly T[]): T {
  if (!choices.includes(value as T)) throw new ConfigError(`${where} must be one of ${choices.map((c) => `"${c}"`).join(', ')}, got ${JSON.stringify(value)}`);
  return value as T;
}

/** true or false, as a boolean or as the word (the environment's form). */
function bool(value: unknown, where: string): boolean {
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new ConfigError(`${where} must be true or false, got ${JSON.stringify(value)}`);
}

function text(value: unknown, where: string): string {
  if (typeof value !== 'string') throw new ConfigError(`${where} must be a string, got ${JSON.stringify(value)}`);
  return value;
}

/**
 * A setting's raw value and where it came from: the environment variable when
 * it is set and not empty, else the file's key, else undefined.
 */
function setting(env: Env, file: ConfigFile | null, envName: string | null, key: string | null): { value: unknown; where: string } | undefined {
  if (envName !== null && env[envName] !== undefined && env[envName] !== '') return { value: env[envName], where: envName };
  if (key !== null && file && file.json[key] !== undefined) return { value: file.json[key], where: `${file.path}: ${key}` };
  return undefined;
}

function read<T>(env: Env, file: ConfigFile | null, envName: string | null, key: string | null, fallback: T, reader: (value: unknown, where: string) => T): T {
  const s = setting(env, file, envName, key);
  return s === undefined ? fallback : reader(s.value, s.where);
}

const port = (value: unknown, where: string): number => int(value, where, 1, 65535);
const seconds = (value: unknown, where: string): number => int(value, where, 1, MAX_INTERVAL_SEC, ' of seconds');

function list(raw: unknown, where: string, shape: string): Array<Record<string, unknown>> {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw new ConfigError(`${where} must be an array of ${shape}`);
  return raw.map((r: unknown, i) => {
    if (typeof r !== 'object' || r === null || Array.isArray(r)) throw new ConfigError(`${where}[${i}] must be an object ${shape}`);
    return r as Record<string, unknown>;
  });
}

const SOCKET_MODES: Record<string, number> = { '0600': 0o600, '0660': 0o660, '0666': 0o666 };

// A group without a mode means the group should get in: 0660.
function socketSettings(raw: unknown, file: string, envGroup: string | undefined): Config['socket'] {
  if (envGroup) raw = { ...(typeof raw === 'object' && raw !== null ? raw : {}), group: envGroup };
  if (raw === undefined) return { group: null, mode: null };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(`${file}: "socket" must be an object { group?, mode? }`);
  const { group, mode, ...rest } = raw as Record<string, unknown>;
  const unknown = Object.keys(rest)[0];
  if (unknown !== undefined) throw new ConfigError(`${file}: socket.${unknown} is not a known key (group, mode)`);
  if (group !== undefined && (typeof group !== 'string' || !/^[A-Za-z_][A-Za-z0-9_.-]{0,31}\$?$/.test(group))) throw new ConfigError(`${file}: socket.group must be a group name, got ${JSON.stringify(group)}`);
  if (mode !== undefined && (typeof mode !== 'string' || !(mode in SOCKET_MODES))) throw new ConfigError(`${file}: socket.mode must be one of ${Object.keys(SOCKET_MODES).join(', ')}, got ${JSON.stringify(mode)}`);
  return { group: group ?? null, mode: mode === undefined ? (group === undefined ? null : 0o660) : (SOCKET_MODES[mode] as number) };
}

function fileRanges(raw: unknown, file: string): Range[] {
  return list(raw, `${file}: ranges`, '{ name, start, end, purpose? }').map((r, i) => {
    const where = `${file}: ranges[${i}]`;
    if (typeof r.name !== 'string' || !/^[a-z0-9][a-z0-9._-]{0,62}$/.test(r.name)) throw new ConfigError(`${where}.name must be 1-63 chars of a-z 0-9 . _ -`);
    if (BUILTIN_RANGES.some((b) => b.name === r.name)) throw new ConfigError(`${where}.name "${r.name}" is a built-in range name`);
    const start = port(r.start, `${where}.start`);
    const end = port(r.end, `${where}.end`);
    if (start > end) throw new ConfigError(`${where}: start ${start} is after end ${end}`);
    return { name: r.name, start, end, purpose: r.purpose === undefined ? 'configured' : text(r.purpose, `${where}.purpose`) };
  });
}

function fileReservations(raw: unknown, file: string): ConfiguredReservation[] {
  return list(raw, `${file}: reservations`, '{ port, protocol?, for?, reason? }').map((r, i) => {
    const where = `${file}: reservations[${i}]`;
    return {
      port: port(r.port, `${where}.port`),
      protocol: r.protocol === undefined ? 'tcp' : oneOf<Protocol>(r.protocol, `${where}.protocol`, PROTOCOLS),
      ...(r.for !== undefined && { for: text(r.for, `${where}.for`) }),
      ...(r.reason !== undefined && { reason: text(r.reason, `${where}.reason`) }),
    };
  });
}

function fileHealth(raw: unknown, file: string): HealthConfig {
  if (raw === undefined) return { allowRemote: false };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(`${file}: health must be an object { allowRemote?, failuresBeforeUnhealthy?, successesBeforeHealthy? }`);
  const h = raw as Record<string, unknown>;
  const out: HealthConfig = { allowRemote: false };
  for (const [key, value] of Object.entries(h)) {
    const where = `${file}: health.${key}`;
    if (key === 'allowRemote') {
      out.allowRemote = bool(value, where);
    } else if (key === 'failuresBeforeUnhealthy' || key === 'successesBeforeHealthy') {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 100) throw new ConfigError(`${where} must be a whole number 1..100, got ${JSON.stringify(value)}`);
      out[key] = value;
    } else {
      throw new ConfigError(`${where} is not a known key (expected: allowRemote, failuresBeforeUnhealthy, successesBeforeHealthy)`);
    }
  }
  return out;
}

/** Runs a reader that lives in its own file, turning its refusal into a ConfigError. */
function wrapped<T>(read: () => T): T {
  try {
    return read();
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
}

/** Builds the configuration from environment variables and the parsed config file (pure). */
export function buildConfig(env: Env, file: ConfigFile | null, ctx: PathContext, stdoutIsTTY = false): Config {
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
    logLevel: read(env, file, 'PORTMAND_LOG_LEVEL', 'logLevel', 'info', (v, w) => oneOf(v, w, LOG_LEVELS)),
    configFile: file?.path ?? null,
    scanIntervalSec: read(env, file, 'PORTMAND_SCAN_INTERVAL', 'scanIntervalSec', 10, seconds),
    healthIntervalSec: read(env, file, 'PORTMAND_HEALTH_INTERVAL', 'healthIntervalSec', 30, seconds),
    ranges,
    reservations: fileReservations(f.reservations, name),
    groupAccess: read(env, file, null, 'groupAccess', false, bool),
    socket: socketSettings(f.socket, name, env.PORTMAND_SOCKET_GROUP),
    listenFd: null,
    logOutput: logOutput(env, stdoutIsTTY),
    sync: read(env, file, 'PORTMAND_SYNC', 'sync', 'background', (v, w) => oneOf(v, w, SYNC_MODES)),
    avoidEphemeral: read(env, file, null, 'avoidEphemeral', true, bool),
    health: fileHealth(f.health, name),
    conflicts: wrapped(() => conflictPolicy(f.conflicts, name)),
    alerts: wrapped(() => alertRules(f.alerts, name)),
  };
}

/** Reads the real environment and the config file named by PORTMAND_CONFIG, if any. */
export function readConfig(env: Env = process.env): Config {
  const ctx: PathContext = { platform: process.platform, uid: process.getuid?.() ?? -1, home: os.homedir() };
  const filePath = env.PORTMAND_CONFIG ? path.resolve(env.PORTMAND_CONFIG) : null;
  let file: ConfigFile | null = null;
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
  const config = buildConfig(env, file, ctx, process.stdout.isTTY === true);
  try {
    config.listenFd = inheritedSocketFd(env, process.pid);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  // Like sd_listen_fds(1): the variables describe us, not the commands we run.
  delete env.LISTEN_FDS;
  delete env.LISTEN_PID;
  delete env.LISTEN_FDNAMES;
  return config;
}
