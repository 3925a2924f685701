// The portmand wire contract (../shared/PROTOCOL.md) as TypeScript types.
// This file imports nothing: the daemon, the client library and the CLI all
// take their types from here, so the contract has exactly one definition.

export type Protocol = 'tcp' | 'udp';
export type ServiceStatus = 'registered' | 'healthy' | 'unhealthy' | 'stopped';
export type PortState = 'assigned' | 'reserved' | 'listening' | 'free';
export type ConflictType = 'duplicate_assignment' | 'foreign_listener' | 'reserved_in_use' | 'drift';
export type Severity = 'critical' | 'warning' | 'info';
export type Strategy = 'auto' | 'manual' | 'swap' | 'reserve';

export type HealthCheck =
  | { type: 'http'; url: string; intervalSec?: number; timeoutMs?: number }
  | { type: 'tcp'; intervalSec?: number; timeoutMs?: number };

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
  status: ServiceStatus;
  latencyMs: number | null;
  checkedAt: string;
  error?: string;
  history?: Array<Omit<HealthResult, 'service' | 'history'>>;
}

export interface RegisterParams {
  name: string;
  port?: number;
  protocol?: Protocol;
  host?: string;
  pid?: number;
  process?: string;
  /** Omitted keeps the service's check on an update; null removes it (extension). */
  healthCheck?: HealthCheck | null;
  tags?: string[];
  range?: string;
  exclusive?: boolean;
}

export interface RegisterResult extends Service {
  conflicts?: Conflict[];
}

export interface ServiceDetail extends Service {
  conflicts: Conflict[];
  health: HealthResult | null;
}

export interface AllocateParams {
  service: string;
  preferred?: number;
  range?: string;
  protocol?: Protocol;
  host?: string;
  ttlSec?: number;
  pid?: number;
}

export interface AllocateResult {
  port: number;
  service: string;
  expiresAt?: string;
}

export interface CheckResult {
  port: number;
  available: boolean;
  reason?: string;
  heldBy?: HeldBy;
}

export interface ResolveParams {
  service?: string;
  conflictId?: string;
  strategy: Strategy;
  newPort?: number;
  withService?: string;
}

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
  exhaustsAt: string | null;
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
  | 'range.assigned'
  | 'range.reserved'
  | 'range.listening'
  | 'range.utilisation'
  | 'conflicts.open'
  | 'service.up'
  | 'service.latencyMs';
export const SERIES_METRICS: readonly SeriesMetric[] = [
  'range.assigned',
  'range.reserved',
  'range.listening',
  'range.utilisation',
  'conflicts.open',
  'service.up',
  'service.latencyMs',
];

export interface SeriesParams {
  metric: SeriesMetric;
  /** Required for range.* metrics: a configured range's name (or its exact "START-END"). */
  range?: string;
  /** Required for service.* metrics. */
  service?: string;
  /** ISO times; default: the last 24 h (step 60) or, with step >= 3600, the last 90 days. */
  from?: string;
  to?: string;
  /** Seconds per point, a multiple of 60; points are means of the minute or hour buckets. */
  step?: number;
}

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

/** Every method of the contract: its params and its result. */
export interface Methods {
  'service.register': { params: RegisterParams; result: RegisterResult };
  'service.list': { params: { status?: ServiceStatus; tag?: string }; result: Service[] };
  'service.get': { params: { name: string }; result: ServiceDetail };
  'service.setPort': { params: { name: string; port: number }; result: Service };
  'service.unregister': { params: { name: string }; result: { name: string; releasedPorts: number[] } };
  'service.restart': { params: { name: string }; result: { name: string; restarted: boolean } };

  'port.list': { params: { state?: PortState; range?: string }; result: PortInfo[] };
  'port.get': { params: { port: number; protocol?: Protocol }; result: PortInfo };
  'port.check': { params: { port: number; protocol?: Protocol; host?: string }; result: CheckResult };
  'port.allocate': { params: AllocateParams; result: AllocateResult };
  'port.release': { params: { port: number; protocol?: Protocol; service?: string }; result: ReleaseResult };
  'port.suggest': { params: { count?: number; range?: string; near?: number; protocol?: Protocol }; result: { ports: number[] } };
  'port.reserve': {
    params: { port: number; protocol?: Protocol; for?: string; reason?: string; ttlSec?: number };
    result: PortInfo;
  };
  'port.history': { params: { service?: string; port?: number; since?: string; limit?: number }; result: PortHistoryEntry[] };
  'range.list': { params: Record<string, never>; result: Range[] };

  'conflict.list': { params: { open?: boolean }; result: Conflict[] };
  'conflict.detect': { params: Record<string, never>; result: Conflict[] };
  'conflict.resolve': { params: ResolveParams; result: ResolveResult };
  'conflict.history': { params: { limit?: number; since?: string }; result: Conflict[] };

  'health.list': { params: Record<string, never>; result: HealthResult[] };
  'health.get': { params: { service: string }; result: HealthResult };
  'health.check': { params: { service?: string }; result: HealthResult[] };

  'stats.ports': { params: Record<string, never>; result: { ranges: RangeStats[] } };
  'stats.services': { params: Record<string, never>; result: { byStatus: Partial<Record<ServiceStatus, number>>; services: ServiceStats[] } };
  'stats.conflicts': { params: Record<string, never>; result: ConflictStats };
  'stats.series': { params: SeriesParams; result: SeriesResult };

  'daemon.status': { params: Record<string, never>; result: DaemonStatus };
  'daemon.ping': { params: Record<string, never>; result: 'pong' };
  'events.subscribe': { params: { types?: EventType[]; sinceSeq?: number }; result: { subscribed: EventType[]; seq?: number; gap?: boolean } };
  'events.unsubscribe': { params: { types?: EventType[] }; result: { subscribed: EventType[] } };
}

export type MethodName = keyof Methods;
export type ParamsOf<M extends MethodName> = Methods[M]['params'];
export type ResultOf<M extends MethodName> = Methods[M]['result'];

/** Event payloads by type. */
export interface EventData {
  service_registered: Service;
  service_unregistered: { name: string; releasedPorts: number[] };
  port_assigned: { service: string; port: number; previous?: number };
  port_released: { port: number; service?: string };
  conflict_detected: Conflict;
  conflict_resolved: Conflict;
  service_health: { service: string; status: ServiceStatus; previous: ServiceStatus; latencyMs?: number; error?: string };
}

export type EventType = keyof EventData;
export const EVENT_TYPES: readonly EventType[] = [
  'service_registered',
  'service_unregistered',
  'port_assigned',
  'port_released',
  'conflict_detected',
  'conflict_resolved',
  'service_health',
];

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
