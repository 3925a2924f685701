// The portmand wire contract (../shared/PROTOCOL.md) as TypeScript types.
// The daemon, the client library and the CLI all take their types from here.
// Params are typed from their schemas in ./schema/ (the same definitions the
// daemon validates with and rpc.discover publishes); the imports are types
// only, so loading this file loads nothing else.
import type { Static } from '@sinclair/typebox';
import type * as C from './schema/common.ts';
import type { ParamsByMethod } from './schema/methods.ts';
import type * as R from './schema/results.ts';
import type * as S from './schema/service.ts';

// The enumerations of the contract, as values: validators, CLI option checks
// and tallies iterate these arrays, and each type is derived from its array,
// so adding a value in one place reaches every check.
export const PROTOCOLS = ['tcp', 'udp'] as const;
export type Protocol = (typeof PROTOCOLS)[number];
export const SERVICE_STATUSES = ['registered', 'healthy', 'unhealthy', 'stopped'] as const;
export type ServiceStatus = (typeof SERVICE_STATUSES)[number];
export const PORT_STATES = ['assigned', 'reserved', 'listening', 'free'] as const;
export type PortState = (typeof PORT_STATES)[number];
export const CONFLICT_TYPES = ['duplicate_assignment', 'foreign_listener', 'reserved_in_use', 'drift'] as const;
export type ConflictType = (typeof CONFLICT_TYPES)[number];
/** Most severe first: resolve picks a service's conflict in this order. */
export const SEVERITIES = ['critical', 'warning', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];
export const STRATEGIES = ['auto', 'manual', 'swap', 'reserve'] as const;
export type Strategy = (typeof STRATEGIES)[number];
export const HEALTH_CHECK_TYPES = ['http', 'tcp'] as const;
export type HealthCheckType = (typeof HEALTH_CHECK_TYPES)[number];

/**
 * The one order of names (services, holders, health results) in every list the
 * daemon returns and the CLI prints: plain UTF-16 code-unit order, the order of
 * `Array.prototype.sort()`. Unlike localeCompare it is the same on every host
 * and locale and puts "a-c" < "a1" < "a_b" as their character codes do.
 */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A service's health check (service.register `healthCheck`). */
export type HealthCheck = Static<typeof S.HealthCheck>;

/** The signals a restart action may send to the service's process. */
export const RESTART_SIGNALS = ['SIGHUP', 'SIGUSR1', 'SIGUSR2', 'SIGTERM'] as const;
export type RestartSignal = (typeof RESTART_SIGNALS)[number];

/** How a service is restarted: a command run without a shell, or a signal sent to its pid. */
export type RestartAction = Static<typeof S.RestartAction>;

/** What the daemon does when it moves a service to another port. */
export const PORT_CHANGE_POLICIES = ['notify', 'restart'] as const;
export type PortChangePolicy = (typeof PORT_CHANGE_POLICIES)[number];

/** Why a restart action ran (`unhealthy`: an extension, after restartAfterFailures failed checks). */
export const RESTART_REASONS = ['manual', 'port_changed', 'unhealthy'] as const;
export type RestartReason = (typeof RESTART_REASONS)[number];

/** service.restart's answer; `error` says why nothing ran or why the run failed. */
export interface RestartResult {
  name: string;
  restarted: boolean;
  exitCode?: number;
  error?: string;
}

export interface Service {
  name: string;
  port: number;
  protocol: Protocol;
  host: string;
  pid?: number;
  status: ServiceStatus;
  process?: string;
  healthCheck?: HealthCheck;
  tags: string[];
  registeredAt: string;
  updatedAt: string;
  /** Extension: when the service's port lease ends (set by port.allocate with ttlSec). */
  expiresAt?: string;
  /** Who registered it (the caller, as the daemon established it). */
  owner?: Owner;
  restart?: RestartAction;
  /** Absent means "notify". */
  onPortChange?: PortChangePolicy;
  /** Extension: the daemon may resolve this service's conflicts itself (see conflict.plan). */
  autoResolve?: boolean;
}

/** The user who created a service or reservation. */
export interface Owner {
  uid: number;
  user?: string;
}

/** Who the daemon decided a connection's caller is (auth.whoami). */
export interface WhoAmI {
  uid: number;
  user?: string;
  pid?: number;
  admin: boolean;
  /** Extension: how the daemon knows: the socket is the daemon user's own, the kernel's tables, or a file challenge. */
  via?: 'private-socket' | 'peer' | 'challenge';
}

/** auth.challenge's answer: read the secret in `file`, then prove it with auth.prove. */
export interface Challenge {
  file: string;
  nonce: string;
}

/** Whatever is known about what holds a port. */
export interface HeldBy {
  service?: string;
  pid?: number;
  process?: string;
  reservedFor?: string;
}

export interface Listener {
  pid?: number;
  process?: string;
  address: string;
}

export interface Resolution {
  strategy: Strategy;
  from: number;
  to: number | null;
  by: string;
}

export interface Conflict {
  id: string;
  port: number;
  protocol: Protocol;
  type: ConflictType;
  severity: Severity;
  services: string[];
  listener?: Listener;
  detectedAt: string;
  resolvedAt: string | null;
  resolution: Resolution | null;
  /** Extension: set when an operator acknowledged it with the reserve strategy. */
  acknowledged?: boolean;
  /** Extension: how a closed conflict ended: a strategy resolved it, or its cause went away. */
  outcome?: 'resolved' | 'vanished';
  /** Extension: why the daemon's automatic resolution left it open. */
  note?: string;
}

export interface PortInfo {
  port: number;
  protocol: Protocol;
  state: PortState;
  service?: string;
  listener?: Listener;
  reservedFor?: string;
  /** Extension: lease or reservation end, when one is set. */
  expiresAt?: string;
  /** Extension: why the port is reserved. */
  reason?: string;
  /** Extension: every service holding an assigned port, when more than one does (a duplicate_assignment). */
  services?: string[];
  /** Extension: who made the reservation, for a reserved port. */
  owner?: Owner;
  /** port.reserve only, when it made the reservation: its token, shown this once. */
  token?: string;
}

export interface ReleaseResult {
  port: number;
  released: boolean;
  /** Extension: the services unregistered because they held the port. */
  unregistered?: string[];
  /** Extension: why nothing was released. */
  reason?: string;
}

export interface Range {
  name: string;
  start: number;
  end: number;
  purpose: string;
}

export interface HealthResult {
  service: string;
  /** The service's status after this check: it changes only once the check's thresholds are met. */
  status: ServiceStatus;
  latencyMs: number | null;
  checkedAt: string;
  error?: string;
  /** Extension: whether this check itself passed. */
  ok?: boolean;
  history?: Array<Omit<HealthResult, 'service' | 'history'>>;
}

export type RegisterParams = ParamsByMethod['service.register'];

export interface RegisterResult extends Service {
  conflicts?: Conflict[];
  /** When this call created the service: its token, shown this once (stored hashed). */
  token?: string;
}

export interface ServiceDetail extends Service {
  conflicts: Conflict[];
  health: HealthResult | null;
}

export type AllocateParams = ParamsByMethod['port.allocate'];

export interface AllocateResult {
  port: number;
  service: string;
  expiresAt?: string;
  /** When this call created the service: its token, shown this once (stored hashed). */
  token?: string;
}

export interface CheckResult {
  port: number;
  available: boolean;
  reason?: string;
  heldBy?: HeldBy;
}

export type ResolveParams = ParamsByMethod['conflict.resolve'];

export interface ResolveResult {
  conflict: Conflict | null;
  /** Null only when `reserve` acknowledges a reserved_in_use conflict whose reservation names no service. */
  service: Service | null;
  from: number;
  to: number;
}

export interface RangeStats {
  name: string;
  start: number;
  end: number;
  size: number;
  assigned: number;
  reserved: number;
  listening: number;
  free: number;
  utilisation: number;
  trendPerDay: number;
  /** Null when the range is not filling, or there is too little history to forecast (see historySec). */
  exhaustsAt: string | null;
  /** Extension: how far back the assignment history the trend rests on reaches, in seconds. */
  historySec: number;
}

export interface ServiceStats {
  name: string;
  uptime: { '1h': number | null; '24h': number | null; '7d': number | null };
  portChanges: number;
  restarts: number;
  meanLatencyMs: number | null;
}

export interface ConflictStats {
  open: number;
  resolved: number;
  vanished: number;
  byType: Partial<Record<ConflictType, number>>;
  bySeverity: Partial<Record<Severity, number>>;
  meanTimeToResolveSec: number | null;
  topPorts: Array<{ port: number; count: number }>;
}

export type HistoryAction = 'assigned' | 'moved' | 'released' | 'lease_expired' | 'reserved' | 'unreserved';
export const HISTORY_ACTIONS: readonly HistoryAction[] = ['assigned', 'moved', 'released', 'lease_expired', 'reserved', 'unreserved'];

/** One line of port.history. */
export interface PortHistoryEntry {
  time: string;
  action: HistoryAction;
  service?: string;
  port: number;
  previous?: number;
  by: string;
}

export type SeriesMetric =
  'range.assigned' | 'range.reserved' | 'range.listening' | 'range.utilisation' | 'conflicts.open' | 'service.up' | 'service.latencyMs';
export const SERIES_METRICS: readonly SeriesMetric[] = [
  'range.assigned',
  'range.reserved',
  'range.listening',
  'range.utilisation',
  'conflicts.open',
  'service.up',
  'service.latencyMs',
];

export type SeriesParams = ParamsByMethod['stats.series'];

export interface SeriesResult {
  metric: SeriesMetric;
  step: number;
  /** One point per step from `from` to `to`, oldest first; null where nothing was recorded. */
  points: Array<[string, number | null]>;
}

export interface MethodLatency {
  count: number;
  p50Ms: number | null;
  p99Ms: number | null;
  /** Extension: calls since the daemon started (a Prometheus counter). */
  countSinceStart: number;
}

export interface DaemonStatus {
  version: string;
  pid: number;
  uptimeSec: number;
  socket: string;
  stateFile: string;
  services: number;
  openConflicts: number;
  lastScan: { at: string; durationMs: number; listeners: number } | null;
  // Optional in this type only because an older daemon leaves them out; this daemon always sends them.
  process?: { rssBytes: number; heapUsedBytes: number; cpuSec: number; openFds?: number };
  store?: { journalBytes: number; snapshotBytes: number; lastCompactionAt: string | null };
  /** Requests answered in the last minute, by method. */
  requests?: { total: number; byMethod: Record<string, MethodLatency>; /** Extension: since start. */ totalSinceStart: number };
}

/** Where one configuration value came from: built in, the config file (and its key), or an environment variable. */
export type ConfigSource = { from: 'default' } | { from: 'file'; path: string; key: string } | { from: 'env'; variable: string };

/** daemon.config (an extension): the daemon's effective configuration, each value with its source. */
export interface EffectiveConfig {
  /** The config file looked for: named by PORTMAND_CONFIG or the default location; `found` false when absent (embedded defaults). */
  file: { path: string; from: 'env' | 'default'; found: boolean };
  /** Key paths as in the config file where there is one (`socket.group`), else the setting's name (`socketPath`). */
  settings: Array<{ key: string; value: unknown; source: ConfigSource }>;
}

/**
 * Every method of the contract: its params (typed from its schema in
 * ./schema/, so what the type allows is what the daemon accepts) and its result.
 */
export interface Methods {
  'service.register': { params: ParamsByMethod['service.register']; result: RegisterResult };
  'service.list': { params: ParamsByMethod['service.list']; result: Service[] };
  'service.get': { params: ParamsByMethod['service.get']; result: ServiceDetail };
  'service.setPort': { params: ParamsByMethod['service.setPort']; result: Service };
  'service.unregister': { params: ParamsByMethod['service.unregister']; result: { name: string; releasedPorts: number[] } };
  'service.restart': { params: ParamsByMethod['service.restart']; result: RestartResult };

  'port.list': { params: ParamsByMethod['port.list']; result: PortInfo[] };
  'port.get': { params: ParamsByMethod['port.get']; result: PortInfo };
  'port.check': { params: ParamsByMethod['port.check']; result: CheckResult };
  'port.allocate': { params: ParamsByMethod['port.allocate']; result: AllocateResult };
  'port.release': { params: ParamsByMethod['port.release']; result: ReleaseResult };
  'port.suggest': { params: ParamsByMethod['port.suggest']; result: { ports: number[] } };
  'port.reserve': { params: ParamsByMethod['port.reserve']; result: PortInfo };
  'port.history': { params: ParamsByMethod['port.history']; result: PortHistoryEntry[] };
  'range.list': { params: ParamsByMethod['range.list']; result: Range[] };

  'conflict.list': { params: ParamsByMethod['conflict.list']; result: Conflict[] };
  'conflict.detect': { params: ParamsByMethod['conflict.detect']; result: Conflict[] };
  'conflict.resolve': { params: ParamsByMethod['conflict.resolve']; result: ResolveResult };
  'conflict.history': { params: ParamsByMethod['conflict.history']; result: Conflict[] };
  /** Extension: what the automatic resolution policy would do now, without doing it. */
  'conflict.plan': { params: ParamsByMethod['conflict.plan']; result: AutoResolvePlan };

  'health.list': { params: ParamsByMethod['health.list']; result: HealthResult[] };
  'health.get': { params: ParamsByMethod['health.get']; result: HealthResult };
  'health.check': { params: ParamsByMethod['health.check']; result: HealthResult[] };

  'stats.ports': { params: ParamsByMethod['stats.ports']; result: { ranges: RangeStats[] } };
  'stats.services': {
    params: ParamsByMethod['stats.services'];
    result: { byStatus: Partial<Record<ServiceStatus, number>>; services: ServiceStats[] };
  };
  'stats.conflicts': { params: ParamsByMethod['stats.conflicts']; result: ConflictStats };
  'stats.series': { params: ParamsByMethod['stats.series']; result: SeriesResult };

  'auth.whoami': { params: ParamsByMethod['auth.whoami']; result: WhoAmI };
  'auth.challenge': { params: ParamsByMethod['auth.challenge']; result: Challenge };
  'auth.prove': { params: ParamsByMethod['auth.prove']; result: WhoAmI };
  'token.rotate': { params: ParamsByMethod['token.rotate']; result: { service: string; token: string } };

  'daemon.status': { params: ParamsByMethod['daemon.status']; result: DaemonStatus };
  'daemon.ping': { params: ParamsByMethod['daemon.ping']; result: 'pong' };
  'daemon.config': { params: ParamsByMethod['daemon.config']; result: EffectiveConfig };
  'events.subscribe': { params: ParamsByMethod['events.subscribe']; result: { subscribed: EventType[]; seq?: number; gap?: boolean } };
  'events.unsubscribe': { params: ParamsByMethod['events.unsubscribe']; result: { subscribed: EventType[] } };
  /** The OpenRPC document of every method: params and results as JSON Schema, and the error codes. */
  'rpc.discover': { params: ParamsByMethod['rpc.discover']; result: OpenRpcDocument };
}

/** rpc.discover's answer (https://spec.open-rpc.org); each schema in it is JSON Schema. */
export type OpenRpcDocument = Static<typeof R.OpenRpcDocument>;

/** One step of the automatic resolution policy: what it would do about one open conflict. */
export interface AutoResolveStep {
  conflict: string;
  type: ConflictType;
  port: number;
  /** move: the service goes to a free port; release: the lease is given up; hold: left open (see `note`); none: the policy does not cover it. */
  action: 'move' | 'release' | 'hold' | 'none';
  service?: string;
  note: string;
}

export interface AutoResolvePlan {
  maxMovesPerHour: number;
  steps: AutoResolveStep[];
}

export type MethodName = keyof Methods;

/**
 * The methods that change the registry: they need an identified caller, are
 * rate limited, accept `token`, and are audited. One list, used by the
 * daemon's access layer and audit log and by the client library.
 */
export const MUTATING_METHODS: readonly MethodName[] = [
  'service.register',
  'service.setPort',
  'service.unregister',
  'service.restart',
  'port.allocate',
  'port.release',
  'port.reserve',
  'conflict.resolve',
  'token.rotate',
];

/**
 * `token`: a service's or reservation's secret, accepted by every mutating
 * method (an array when a call acts on several, as a swap does).
 */
export type TokenParam = { token?: Static<ReturnType<typeof C.Token>> };
export type ParamsOf<M extends MethodName> = Methods[M]['params'];
export type ResultOf<M extends MethodName> = Methods[M]['result'];

export const EVENT_TYPES = [
  'service_registered',
  'service_unregistered',
  'port_assigned',
  'port_released',
  'conflict_detected',
  'conflict_resolved',
  'service_health',
  'service_restarted',
  'alert_failed',
  'listener_started',
  'listener_stopped',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Event payloads by type; extending the Record makes the compiler demand one for every EventType. */
export interface EventData extends Record<EventType, unknown> {
  service_registered: Service;
  service_unregistered: { name: string; releasedPorts: number[] };
  port_assigned: { service: string; port: number; previous?: number };
  port_released: { port: number; service?: string };
  conflict_detected: Conflict;
  conflict_resolved: Conflict;
  service_health: { service: string; status: ServiceStatus; previous: ServiceStatus; latencyMs?: number; error?: string };
  service_restarted: { service: string; port: number; reason: RestartReason; ok: boolean; exitCode?: number; error?: string };
  /** `alert` names the config entry, e.g. "alerts[0]". */
  alert_failed: { alert: string; error: string };
  /** A scan saw a listener that the scan before it did not (none on the daemon's first scan). */
  listener_started: ListenerEvent;
  listener_stopped: ListenerEvent;
}

/** A listening socket a scan saw appear or go; `pid` and `process` when the OS says. */
export interface ListenerEvent {
  port: number;
  protocol: Protocol;
  address: string;
  pid?: number;
  process?: string;
}

export interface PortmandEvent<T extends EventType = EventType> {
  type: T;
  seq: number;
  time: string;
  data: EventData[T];
}

/** The JSON-RPC method name that carries pushed events. */
export const EVENT_METHOD = 'event';

export const ErrorCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  NotFound: -32001,
  PortUnavailable: -32002,
  RangeExhausted: -32003,
  PermissionDenied: -32004,
  RateLimited: -32005,
  CannotResolve: -32006,
} as const;
export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The largest request line the daemon reads (1 MiB). */
export const MAX_LINE_BYTES = 1024 * 1024;

/**
 * Limits both ends enforce. The daemon validates params against them and the
 * CLI checks its options with the same numbers, so a value the CLI accepts is
 * one the daemon accepts (and the CLI says so before connecting).
 */
export const LIMITS = {
  /** port.suggest `count`: 1..this; 5 when omitted. */
  suggestCount: 100,
  suggestCountDefault: 5,
  /** port.list `limit`: 1..this; 1,000 for state "free" when omitted, else all. */
  listLimit: 65_536,
  listFreeDefault: 1_000,
  /** conflict.history `limit`: 1..this; 100 when omitted. */
  historyLimit: 10_000,
  historyDefault: 100,
  /** Lease and reservation `ttlSec`: 1..this (a year). */
  ttlSec: 365 * 86_400,
  /** Free text: port.reserve `reason`, service.register `process` (characters; no control characters). */
  reasonChars: 500,
  processChars: 255,
  /** service.register `tags`: at most this many, each at most tagChars. */
  tags: 32,
  tagChars: 64,
  /** conflict.resolve `by`: a user name of at most this many characters. */
  userNameChars: 32,
  /** healthCheck.timeoutMs: 1..this, so no check holds a probe slot or a caller for long. */
  healthTimeoutMs: 30_000,
  /** stats.ports gives no exhaustsAt until its assignment history spans this long (a day). */
  forecastMinHistorySec: 86_400,
  /** restart.command: 1..this argv entries, each at most argChars characters. */
  restartArgs: 256,
  argChars: 4096,
  /** restart.env: at most this many variables; restart.cwd at most pathChars. */
  restartEnvVars: 64,
  pathChars: 4096,
  /** restart.timeoutSec: 1..this; restartTimeoutDefaultSec when omitted. */
  restartTimeoutSec: 3600,
  restartTimeoutDefaultSec: 60,
  /** healthCheck thresholds (failuresBeforeUnhealthy, successesBeforeHealthy, restartAfterFailures): 1..this. */
  healthThreshold: 100,
  /** health.get `limit`: 1..this results (the most kept per service). */
  healthHistory: 50,
  /** port.allocate `exclude`: at most this many ports (every port there is). */
  excludePorts: 65_535,
} as const;
