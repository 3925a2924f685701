// Configuration: environment variables, then an optional JSON config file
// (PORTMAND_CONFIG, else the default location), then embedded defaults.
// `buildConfig` is pure and records where each value came from; `readConfig`
// is the only place in the daemon that reads process.env.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ConfigSource, Protocol, Range } from '../../client/protocol.ts';
import { configFilePath, defaultSocketPath, defaultStateDir, processPathContext, type PathContext } from '../../client/paths.ts';
import { BUILTIN_RANGES } from '../core/ranges.ts';
import { LOG_LEVELS, type LogLevel } from '../log/log.ts';
import { logOutput, type LogOutput } from '../log/output.ts';
import { SYNC_MODES, type SyncMode } from '../store/store.ts';
import { inheritedSocketFd } from '../transport/activation.ts';
import { DEFAULT_CONFLICT_POLICY, type ConflictPolicy } from '../core/auto-resolve.ts';
import { DEFAULT_ALERT_TIMEOUT_MS, type AlertRule } from '../core/alerts.ts';
import { fitsConfigSchema } from './check.generated.ts';
import { abstractRefusal, type PortserverConfig } from './portserver.ts';
import {
  attempt,
  ConfigError,
  groupName,
  note,
  oneOf,
  read,
  seconds,
  SOCKET_MODES,
  type ConfigFile,
  type Env,
  type Trace,
} from './readers.ts';
import type { ConfigFileJson } from './schema.ts';
import { semanticProblems } from './semantics.ts';

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
  /** Connections one user (not an admin) may hold, so that one user cannot take every connection. */
  maxConnectionsPerUser: number;
  /** Services and reservations one user (not an admin) may own, so that one user cannot take every port. */
  maxPortsPerUser: number;
  idleTimeoutSec: number;
}

/**
 * Far above anything a test suite or the bench does: limits are for runaway
 * clients, not for load. The per-user caps are a sixteenth of the connections
 * and a quarter of the dynamic range's 16,384 ports: one user alone cannot
 * fill either, and each is far above what one user's tools hold at once.
 */
export const DEFAULT_LIMITS: Limits = {
  mutationsPerSec: 100_000,
  burst: 100_000,
  maxConnections: 4096,
  maxConnectionsPerUser: 256,
  maxPortsPerUser: 4096,
  idleTimeoutSec: 60,
};

/** The config file's `health` object. */
export interface HealthConfig {
  /** Let health checks reach addresses that are not this host's (default false). */
  allowRemote: boolean;
  failuresBeforeUnhealthy?: number;
  successesBeforeHealthy?: number;
}

/** Config fields that are not settings: facts of this run, or derived from other settings. */
const NOT_SETTINGS = ['configFile', 'configLocation', 'listenFd', 'logOutput', 'sources'];

/**
 * Every problem of the file, each as `file: key.path problem`: those of its
 * schema (the generated check; TypeBox is loaded only to word a refusal), then
 * what the schema cannot say (semantics.ts).
 */
async function fileProblems(file: ConfigFile, platform: string, socketPath: string): Promise<string[]> {
  const problems = fitsConfigSchema(file.json) ? [] : (await import('./problems.ts')).schemaProblems(file.json);
  problems.push(...semanticProblems(file.json, platform, socketPath));
  return problems.map((p) => `${file.path}: ${p}`);
}

// A group without a mode means the group should get in: 0660. PORTMAND_SOCKET_GROUP wins over the file's group.
function socketSettings(raw: ConfigFileJson['socket'], envGroup: string | undefined): Config['socket'] {
  const group = envGroup ? groupName(envGroup, 'PORTMAND_SOCKET_GROUP') : raw?.group;
  const mode = raw?.mode;
  return { group: group ?? null, mode: mode === undefined ? (group === undefined ? null : 0o660) : (SOCKET_MODES[mode] as number) };
}

function reservations(raw: ConfigFileJson['reservations']): ConfiguredReservation[] {
  return (raw ?? []).map((r) => ({ ...r, protocol: r.protocol ?? 'tcp' }));
}

/**
 * Builds the configuration from environment variables and the parsed config
 * file, with the source of each value. Every problem found, in the file and
 * in the variables, is thrown together in one ConfigError. Pure but for
 * loading the schema to word a file's problems.
 */
export async function buildConfig(env: Env, file: ConfigFile | null, ctx: PathContext, stdoutIsTTY = false): Promise<Config> {
  const trace: Trace = { sources: {}, problems: [] };
  const socketPath = attempt(trace, () => checkedSocketPath(env, ctx), defaultSocketPath(env, ctx));
  if (file) trace.problems.push(...(await fileProblems(file, ctx.platform, socketPath)));
  // A file with problems is not read (its values may be of any type); the variables still are, for their problems.
  const valid = trace.problems.length === 0 ? file : null;
  const f = (valid?.json ?? {}) as ConfigFileJson;
  const config: Config = {
    socketPath,
    stateDir: defaultStateDir(env, ctx),
    logFile: env.PORTMAND_LOG_FILE || null,
    logLevel: read(env, valid, 'PORTMAND_LOG_LEVEL', 'logLevel', 'info', (v, w) => oneOf(v, w, LOG_LEVELS), trace),
    configFile: file?.path ?? null,
    scanIntervalSec: read(env, valid, 'PORTMAND_SCAN_INTERVAL', 'scanIntervalSec', 10, seconds, trace),
    healthIntervalSec: read(env, valid, 'PORTMAND_HEALTH_INTERVAL', 'healthIntervalSec', 30, seconds, trace),
    ranges: [...BUILTIN_RANGES, ...(f.ranges ?? []).map((r) => ({ ...r, purpose: r.purpose ?? 'configured' }))],
    reservations: reservations(f.reservations),
    groupAccess: read(env, valid, null, 'groupAccess', false, null, trace),
    socket: attempt(trace, () => socketSettings(f.socket, env.PORTMAND_SOCKET_GROUP), { group: null, mode: null }),
    listenFd: null,
    logOutput: logOutput(env, stdoutIsTTY),
    sync: read(env, valid, 'PORTMAND_SYNC', 'sync', 'background', (v, w) => oneOf(v, w, SYNC_MODES), trace),
    avoidEphemeral: read(env, valid, null, 'avoidEphemeral', true, null, trace),
    health: { allowRemote: false, ...f.health },
    access: { adminGroup: f.access?.adminGroup ?? null },
    limits: { ...DEFAULT_LIMITS, ...f.limits },
    conflicts: { ...DEFAULT_CONFLICT_POLICY, ...f.conflicts },
    alerts: (f.alerts ?? []).map((a) => ({ ...a, timeoutMs: a.timeoutMs ?? DEFAULT_ALERT_TIMEOUT_MS })),
    portserver: f.portserver ?? null,
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

/** A config file's text as JSON; the object check is here, the keys are the schema's (buildConfig). */
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
export function loadConfig(env: Env, ctx: PathContext, stdoutIsTTY = false): Promise<Config> {
  return buildConfig(env, readConfigFile(env, ctx), ctx, stdoutIsTTY);
}

/** Reads the real environment and the config file (PORTMAND_CONFIG or the default location). */
export async function readConfig(env: Env = process.env): Promise<Config> {
  const config = await loadConfig(env, processPathContext(), process.stdout.isTTY === true);
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
