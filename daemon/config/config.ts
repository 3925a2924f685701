// Configuration: environment variables, then an optional JSON config file
// (PORTMAND_CONFIG, else the default location), then embedded defaults.
// `buildConfig` is pure and records where each value came from; `readConfig`
// is the only place in the daemon that reads process.env.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PROTOCOLS, type ConfigSource, type Protocol, type Range } from '../../client/protocol.ts';
import { configFilePath, defaultSocketPath, defaultStateDir, processPathContext, type PathContext } from '../../client/paths.ts';
import { BUILTIN_RANGES } from '../core/ranges.ts';
import { LOG_LEVELS, type LogLevel } from '../log/log.ts';
import { logOutput, type LogOutput } from '../log/output.ts';
import { SYNC_MODES, type SyncMode } from '../store/store.ts';
import { inheritedSocketFd } from '../transport/activation.ts';
import type { ConflictPolicy } from '../core/auto-resolve.ts';
import { conflictPolicy } from './conflicts.ts';
import type { AlertRule } from '../core/alerts.ts';
import { alertRules } from './alerts.ts';
import { abstractRefusal, portserverConfig, type PortserverConfig } from './portserver.ts';
import {
  attempt,
  bool,
  ConfigError,
  every,
  groupName,
  int,
  keyed,
  keyPath,
  list,
  note,
  oneOf,
  port,
  read,
  refuseUnknown,
  seconds,
  text,
  type ConfigFile,
  type Env,
  type Trace,
} from './readers.ts';

export { ConfigError, type ConfigFile };

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
  /** The config file looked for (PORTMAND_CONFIG or the default location); `configFile` is non-null when it was read. */
  configLocation: { path: string; from: 'env' | 'default' };
  /**
   * Where each value came from, by key path: the file's key path where it has
   * one (`socket.group`), else the field's name (`socketPath`).
   */
  sources: Record<string, ConfigSource>;
  /** Config `access`: the group whose members are admins (besides root and the daemon's user). */
  access: { adminGroup: string | null };
  /** Config `limits`: per-caller mutation rate, connections, and how long a half-sent line may wait. */
  limits: Limits;
  /** Config `conflicts`: what the daemon resolves by itself (config/conflicts.ts). */
  conflicts: ConflictPolicy;
  /** Config `alerts` (config/alerts.ts). */
  alerts: AlertRule[];
  /** Config `portserver` (config/portserver.ts): also answer Google's portserver protocol there; null when absent. */
  portserver: PortserverConfig | null;
}

export interface Limits {
  mutationsPerSec: number;
  burst: number;
  maxConnections: number;
  idleTimeoutSec: number;
}

/** Far above anything a test suite or the bench does: limits are for runaway clients, not for load. */
export const DEFAULT_LIMITS: Limits = { mutationsPerSec: 100_000, burst: 100_000, maxConnections: 4096, idleTimeoutSec: 60 };

/** The config file's `health` object. */
export interface HealthConfig {
  /** Let health checks reach addresses that are not this host's (default false). */
  allowRemote: boolean;
  failuresBeforeUnhealthy?: number;
  successesBeforeHealthy?: number;
}

/** The config file's top-level keys. */
const TOP_LEVEL_KEYS = [
  'ranges',
  'reservations',
  'scanIntervalSec',
  'healthIntervalSec',
  'logLevel',
  'sync',
  'groupAccess',
  'avoidEphemeral',
  'socket',
  'health',
  'access',
  'limits',
  'conflicts',
  'alerts',
  'portserver',
];

/** Config fields that are not settings: facts of this run, or derived from other settings. */
const NOT_SETTINGS = ['configFile', 'configLocation', 'listenFd', 'logOutput', 'sources'];

const SOCKET_MODES: Record<string, number> = { '0600': 0o600, '0660': 0o660, '0666': 0o666 };

// A group without a mode means the group should get in: 0660.
function socketSettings(raw: unknown, file: string, envGroup: string | undefined): Config['socket'] {
  if (envGroup) raw = { ...(typeof raw === 'object' && raw !== null ? raw : {}), group: envGroup };
  if (raw === undefined) return { group: null, mode: null };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new ConfigError(`${file}: "socket" must be an object { group?, mode? }`);
  refuseUnknown(raw as Record<string, unknown>, `${file}: socket`, ['group', 'mode']);
  const { group, mode } = raw as Record<string, unknown>;
  if (group !== undefined && (typeof group !== 'string' || !/^[A-Za-z_][A-Za-z0-9_.-]{0,31}\$?$/.test(group)))
    throw new ConfigError(`${file}: socket.group must be a group name, got ${JSON.stringify(group)}`);
  if (mode !== undefined && (typeof mode !== 'string' || !(mode in SOCKET_MODES)))
    throw new ConfigError(`${file}: socket.mode must be one of ${Object.keys(SOCKET_MODES).join(', ')}, got ${JSON.stringify(mode)}`);
  return { group: group ?? null, mode: mode === undefined ? (group === undefined ? null : 0o660) : (SOCKET_MODES[mode] as number) };
}

function fileRanges(raw: unknown, file: string): Range[] {
  return every(list(raw, `${file}: ranges`, '{ name, start, end, purpose? }'), (r, i) => {
    const where = `${file}: ranges[${i}]`;
    refuseUnknown(r, where, ['name', 'start', 'end', 'purpose']);
    if (typeof r.name !== 'string' || !/^[a-z0-9][a-z0-9._-]{0,62}$/.test(r.name))
      throw new ConfigError(`${where}.name must be 1-63 chars of a-z 0-9 . _ -`);
    if (BUILTIN_RANGES.some((b) => b.name === r.name)) throw new ConfigError(`${where}.name "${r.name}" is a built-in range name`);
    const start = port(r.start, `${where}.start`);
    const end = port(r.end, `${where}.end`);
    if (start > end) throw new ConfigError(`${where}: start ${start} is after end ${end}`);
    return { name: r.name, start, end, purpose: r.purpose === undefined ? 'configured' : text(r.purpose, `${where}.purpose`) };
  });
}

function fileReservations(raw: unknown, file: string): ConfiguredReservation[] {
  return every(list(raw, `${file}: reservations`, '{ port, protocol?, for?, reason? }'), (r, i) => {
    const where = `${file}: reservations[${i}]`;
    refuseUnknown(r, where, ['port', 'protocol', 'for', 'reason']);
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
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new ConfigError(`${file}: health must be an object { allowRemote?, failuresBeforeUnhealthy?, successesBeforeHealthy? }`);
  const h = raw as Record<string, unknown>;
  const out: HealthConfig = { allowRemote: false };
  every(Object.entries(h), ([key, value]) => {
    const where = keyPath(`${file}: health`, key);
    if (key === 'allowRemote') {
      out.allowRemote = bool(value, where);
    } else if (key === 'failuresBeforeUnhealthy' || key === 'successesBeforeHealthy') {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 100)
        throw new ConfigError(`${where} must be a whole number 1..100, got ${JSON.stringify(value)}`);
      out[key] = value;
    } else {
      throw new ConfigError(`${where} is not a known key (expected: allowRemote, failuresBeforeUnhealthy, successesBeforeHealthy)`);
    }
  });
  return out;
}

/**
 * Builds the configuration from environment variables and the parsed config
 * file (pure), with the source of each value. Every problem found is thrown
 * together in one ConfigError.
 */
export function buildConfig(env: Env, file: ConfigFile | null, ctx: PathContext, stdoutIsTTY = false): Config {
  const f = file?.json ?? {};
  const name = file?.path ?? 'config';
  const trace: Trace = { sources: {}, problems: [] };
  attempt(trace, () => refuseUnknown(f, `${name}: `, TOP_LEVEL_KEYS), undefined);
  const ranges = attempt(trace, () => configRanges(f.ranges, name), [...BUILTIN_RANGES]);
  const socketPath = attempt(trace, () => checkedSocketPath(env, ctx), defaultSocketPath(env, ctx));
  const config: Config = {
    socketPath,
    stateDir: defaultStateDir(env, ctx),
    logFile: env.PORTMAND_LOG_FILE || null,
    logLevel: read(env, file, 'PORTMAND_LOG_LEVEL', 'logLevel', 'info', (v, w) => oneOf(v, w, LOG_LEVELS), trace),
    configFile: file?.path ?? null,
    scanIntervalSec: read(env, file, 'PORTMAND_SCAN_INTERVAL', 'scanIntervalSec', 10, seconds, trace),
    healthIntervalSec: read(env, file, 'PORTMAND_HEALTH_INTERVAL', 'healthIntervalSec', 30, seconds, trace),
    ranges,
    reservations: attempt(trace, () => fileReservations(f.reservations, name), []),
    groupAccess: read(env, file, null, 'groupAccess', false, bool, trace),
    socket: attempt(trace, () => socketSettings(f.socket, name, env.PORTMAND_SOCKET_GROUP), { group: null, mode: null }),
    listenFd: null,
    logOutput: logOutput(env, stdoutIsTTY),
    sync: read(env, file, 'PORTMAND_SYNC', 'sync', 'background', (v, w) => oneOf(v, w, SYNC_MODES), trace),
    avoidEphemeral: read(env, file, null, 'avoidEphemeral', true, bool, trace),
    health: attempt(trace, () => fileHealth(f.health, name), { allowRemote: false }),
    access: attempt(trace, () => keyed<Config['access']>(f.access, `${name}: access`, { adminGroup: null }, { adminGroup: groupName }), {
      adminGroup: null,
    }),
    limits: attempt(
      trace,
      () =>
        keyed(f.limits, `${name}: limits`, DEFAULT_LIMITS, {
          mutationsPerSec: (v, w) => int(v, w, 1, 10_000_000),
          burst: (v, w) => int(v, w, 1, 10_000_000),
          maxConnections: (v, w) => int(v, w, 1, 1_000_000),
          idleTimeoutSec: seconds,
        }),
      { ...DEFAULT_LIMITS },
    ),
    conflicts: attempt(trace, () => conflictPolicy(f.conflicts, name), conflictPolicy(undefined, name)),
    alerts: attempt(trace, () => alertRules(f.alerts, name), []),
    portserver: attempt(trace, () => portserverConfig(f.portserver, name, ctx.platform, socketPath), null),
    configLocation: configFilePath(env, ctx),
    sources: trace.sources,
  };
  if (trace.problems.length) throw new ConfigError(trace.problems);
  note(trace, 'socketPath', env, null, 'PORTMAND_SOCKET', null);
  note(trace, 'stateDir', env, null, 'PORTMAND_STATE_DIR', null);
  note(trace, 'logFile', env, null, 'PORTMAND_LOG_FILE', null);
  note(trace, 'ranges', env, file, null, 'ranges');
  note(trace, 'reservations', env, file, null, 'reservations');
  note(trace, 'socket.group', env, file, 'PORTMAND_SOCKET_GROUP', 'socket.group');
  note(trace, 'socket.mode', env, file, null, 'socket.mode');
  for (const key of ['allowRemote', 'failuresBeforeUnhealthy', 'successesBeforeHealthy'])
    note(trace, `health.${key}`, env, file, null, `health.${key}`);
  note(trace, 'access.adminGroup', env, file, null, 'access.adminGroup');
  for (const key of Object.keys(DEFAULT_LIMITS)) note(trace, `limits.${key}`, env, file, null, `limits.${key}`);
  // A setting added without a note of its own still shows: from the file if it has the key, else built in.
  for (const key of Object.keys(config)) {
    if (!NOT_SETTINGS.includes(key) && !Object.keys(trace.sources).some((k) => k === key || k.startsWith(`${key}.`)))
      note(trace, key, env, file, null, key);
  }
  return config;
}

function configRanges(raw: unknown, name: string): Range[] {
  const ranges = [...BUILTIN_RANGES, ...fileRanges(raw, name)];
  const dupe = ranges.find((r, i) => ranges.findIndex((o) => o.name === r.name) !== i);
  if (dupe) throw new ConfigError(`${name}: range "${dupe.name}" is defined twice`);
  return ranges;
}

function checkedSocketPath(env: Env, ctx: PathContext): string {
  const socketPath = defaultSocketPath(env, ctx);
  const maxSocketBytes = ctx.platform === 'linux' ? 107 : 103;
  if (Buffer.byteLength(socketPath) > maxSocketBytes) {
    throw new ConfigError(
      `socket path ${socketPath} is ${Buffer.byteLength(socketPath)} bytes; Unix sockets allow at most ${maxSocketBytes} here: set PORTMAND_SOCKET to a shorter path`,
    );
  }
  return socketPath;
}

/**
 * The config file PORTMAND_CONFIG names, else the one at the default location.
 * A missing default file is no file (embedded defaults); a missing file that
 * PORTMAND_CONFIG names is an error.
 */
export function readConfigFile(env: Env, ctx: PathContext): ConfigFile | null {
  const location = configFilePath(env, ctx);
  const filePath = path.resolve(location.path);
  const origin = location.from === 'env' ? 'PORTMAND_CONFIG' : 'the default location';
  let text: string;
  try {
    text = readFileSync(filePath, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (location.from === 'default' && (code === 'ENOENT' || code === 'ENOTDIR')) return null;
    throw new ConfigError(`cannot read config file ${filePath} (${origin}): ${(err as Error).message}`);
  }
  return parseConfigFile(filePath, text);
}

/** A config file's text as JSON; the object check is here, the keys are buildConfig's. */
export function parseConfigFile(filePath: string, text: string): ConfigFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`config file ${filePath} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new ConfigError(`config file ${filePath} must hold a JSON object`);
  return { path: filePath, json: json as Record<string, unknown> };
}

/** The configuration a daemon started with this environment would use; reads the config file, changes nothing. */
export function loadConfig(env: Env, ctx: PathContext, stdoutIsTTY = false): Config {
  return buildConfig(env, readConfigFile(env, ctx), ctx, stdoutIsTTY);
}

/** Reads the real environment and the config file (PORTMAND_CONFIG or the default location). */
export function readConfig(env: Env = process.env): Config {
  const config = loadConfig(env, processPathContext(), process.stdout.isTTY === true);
  const abstract = abstractRefusal(config.portserver, process.versions.uv ?? '0');
  if (abstract !== null) throw new ConfigError(`${config.configFile ?? 'config'}: ${abstract}`);
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
