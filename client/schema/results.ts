// The results of the methods, as JSON Schema for the rpc.discover document.
// client/protocol.ts keeps their TypeScript interfaces (with their comments);
// test/types/schema-results.test.ts has the compiler check that each schema
// and its interface describe the same values, so neither can drift.
import { Type, type TSchema } from '@sinclair/typebox';
import {
  CONFLICT_TYPES,
  HISTORY_ACTIONS,
  PORT_STATES,
  PROTOCOLS,
  SERIES_METRICS,
  SERVICE_STATUSES,
  SEVERITIES,
  STRATEGIES,
  PORT_CHANGE_POLICIES,
  EVENT_TYPES,
} from '../protocol.ts';
import { Enum } from './common.ts';
import { HealthCheck, RestartAction } from './service.ts';

const Opt = <T extends TSchema>(t: T) => Type.Optional(t);
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Str = () => Type.String();
const Num = () => Type.Number();
const Time = () => Type.String({ description: 'ISO-8601 time' });

export const Owner = Type.Object({ uid: Num(), user: Opt(Str()) });

export const Service = Type.Object({
  name: Str(),
  port: Num(),
  protocol: Enum(PROTOCOLS),
  host: Str(),
  pid: Opt(Num()),
  status: Enum(SERVICE_STATUSES),
  process: Opt(Str()),
  healthCheck: Opt(HealthCheck),
  tags: Type.Array(Str()),
  registeredAt: Time(),
  updatedAt: Time(),
  expiresAt: Opt(Time()),
  owner: Opt(Owner),
  restart: Opt(RestartAction),
  onPortChange: Opt(Enum(PORT_CHANGE_POLICIES)),
  autoResolve: Opt(Type.Boolean()),
});

export const Listener = Type.Object({ pid: Opt(Num()), process: Opt(Str()), address: Str() });
export const Resolution = Type.Object({ strategy: Enum(STRATEGIES), from: Num(), to: Nullable(Num()), by: Str() });

export const Conflict = Type.Object({
  id: Str(),
  port: Num(),
  protocol: Enum(PROTOCOLS),
  type: Enum(CONFLICT_TYPES),
  severity: Enum(SEVERITIES),
  services: Type.Array(Str()),
  listener: Opt(Listener),
  detectedAt: Time(),
  resolvedAt: Nullable(Time()),
  resolution: Nullable(Resolution),
  acknowledged: Opt(Type.Boolean()),
  outcome: Opt(Enum(['resolved', 'vanished'] as const)),
  note: Opt(Str()),
});

export const PortInfo = Type.Object({
  port: Num(),
  protocol: Enum(PROTOCOLS),
  state: Enum(PORT_STATES),
  service: Opt(Str()),
  listener: Opt(Listener),
  reservedFor: Opt(Str()),
  expiresAt: Opt(Time()),
  reason: Opt(Str()),
  services: Opt(Type.Array(Str())),
  owner: Opt(Owner),
  token: Opt(Str()),
});

const healthFields = {
  status: Enum(SERVICE_STATUSES),
  latencyMs: Nullable(Num()),
  checkedAt: Time(),
  error: Opt(Str()),
  ok: Opt(Type.Boolean()),
};
export const HealthResult = Type.Object({
  service: Str(),
  ...healthFields,
  history: Opt(Type.Array(Type.Object(healthFields))),
});

export const RegisterResult = Type.Composite([Service, Type.Object({ conflicts: Opt(Type.Array(Conflict)), token: Opt(Str()) })]);
export const ServiceDetail = Type.Composite([Service, Type.Object({ conflicts: Type.Array(Conflict), health: Nullable(HealthResult) })]);

export const RestartResult = Type.Object({ name: Str(), restarted: Type.Boolean(), exitCode: Opt(Num()), error: Opt(Str()) });
export const AllocateResult = Type.Object({ port: Num(), service: Str(), expiresAt: Opt(Time()), token: Opt(Str()) });
export const HeldBy = Type.Object({ service: Opt(Str()), pid: Opt(Num()), process: Opt(Str()), reservedFor: Opt(Str()) });
export const CheckResult = Type.Object({ port: Num(), available: Type.Boolean(), reason: Opt(Str()), heldBy: Opt(HeldBy) });
export const ReleaseResult = Type.Object({
  port: Num(),
  released: Type.Boolean(),
  unregistered: Opt(Type.Array(Str())),
  reason: Opt(Str()),
});
export const Range = Type.Object({ name: Str(), start: Num(), end: Num(), purpose: Str() });
export const PortHistoryEntry = Type.Object({
  time: Time(),
  action: Enum(HISTORY_ACTIONS),
  service: Opt(Str()),
  port: Num(),
  previous: Opt(Num()),
  by: Str(),
});
export const ResolveResult = Type.Object({ conflict: Nullable(Conflict), service: Nullable(Service), from: Num(), to: Num() });

export const AutoResolvePlan = Type.Object({
  maxMovesPerHour: Num(),
  steps: Type.Array(
    Type.Object({
      conflict: Str(),
      type: Enum(CONFLICT_TYPES),
      port: Num(),
      action: Enum(['move', 'release', 'hold', 'none'] as const),
      service: Opt(Str()),
      note: Str(),
    }),
  ),
});

export const RangeStats = Type.Object({
  name: Str(),
  start: Num(),
  end: Num(),
  size: Num(),
  assigned: Num(),
  reserved: Num(),
  listening: Num(),
  free: Num(),
  utilisation: Num(),
  trendPerDay: Num(),
  exhaustsAt: Nullable(Time()),
  historySec: Num(),
});

/** A tally keyed by the values of an enumeration, each key optional. */
const Tally = <T extends string>(keys: readonly T[]) =>
  Type.Partial(Type.Object(Object.fromEntries(keys.map((k) => [k, Num()])) as Record<T, ReturnType<typeof Num>>));

export const ServiceStats = Type.Object({
  name: Str(),
  uptime: Type.Object({ '1h': Nullable(Num()), '24h': Nullable(Num()), '7d': Nullable(Num()) }),
  portChanges: Num(),
  restarts: Num(),
  meanLatencyMs: Nullable(Num()),
});
export const ConflictStats = Type.Object({
  open: Num(),
  resolved: Num(),
  vanished: Num(),
  byType: Tally(CONFLICT_TYPES),
  bySeverity: Tally(SEVERITIES),
  meanTimeToResolveSec: Nullable(Num()),
  topPorts: Type.Array(Type.Object({ port: Num(), count: Num() })),
});
export const SeriesResult = Type.Object({
  metric: Enum(SERIES_METRICS),
  step: Num(),
  points: Type.Array(Type.Tuple([Time(), Nullable(Num())])),
});

export const WhoAmI = Type.Object({
  uid: Num(),
  user: Opt(Str()),
  pid: Opt(Num()),
  admin: Type.Boolean(),
  via: Opt(Enum(['private-socket', 'peer', 'challenge'] as const)),
});
export const Challenge = Type.Object({ file: Str(), nonce: Str() });

const MethodLatency = Type.Object({ count: Num(), p50Ms: Nullable(Num()), p99Ms: Nullable(Num()), countSinceStart: Num() });
export const DaemonStatus = Type.Object({
  version: Str(),
  pid: Num(),
  uptimeSec: Num(),
  socket: Str(),
  stateFile: Str(),
  services: Num(),
  openConflicts: Num(),
  lastScan: Nullable(Type.Object({ at: Time(), durationMs: Num(), listeners: Num() })),
  process: Opt(Type.Object({ rssBytes: Num(), heapUsedBytes: Num(), cpuSec: Num(), openFds: Opt(Num()) })),
  store: Opt(Type.Object({ journalBytes: Num(), snapshotBytes: Num(), lastCompactionAt: Nullable(Time()) })),
  requests: Opt(Type.Object({ total: Num(), byMethod: Type.Record(Str(), MethodLatency), totalSinceStart: Num() })),
});

const ConfigSource = Type.Union([
  Type.Object({ from: Type.Literal('default') }),
  Type.Object({ from: Type.Literal('file'), path: Str(), key: Str() }),
  Type.Object({ from: Type.Literal('env'), variable: Str() }),
]);
export const EffectiveConfig = Type.Object({
  file: Type.Object({ path: Str(), from: Enum(['env', 'default'] as const), found: Type.Boolean() }),
  settings: Type.Array(Type.Object({ key: Str(), value: Type.Unknown(), source: ConfigSource })),
});

const Subscribed = Type.Array(Enum(EVENT_TYPES));

/** rpc.discover's answer: an OpenRPC 1.x document (its own schema is the OpenRPC specification's). */
export const OpenRpcDocument = Type.Object(
  {
    openrpc: Str(),
    info: Type.Object({ title: Str(), version: Str(), description: Opt(Str()) }),
    methods: Type.Array(Type.Object({ name: Str() }, { additionalProperties: true })),
    components: Opt(
      Type.Object({
        errors: Opt(Type.Record(Str(), Type.Object({ code: Num(), message: Str() }))),
        schemas: Opt(Type.Record(Str(), Type.Unknown(), { description: 'ConfigFile: the config file (extension)' })),
      }),
    ),
  },
  { description: 'see https://spec.open-rpc.org' },
);

export const results = {
  'service.register': RegisterResult,
  'service.list': Type.Array(Service),
  'service.get': ServiceDetail,
  'service.setPort': Service,
  'service.unregister': Type.Object({ name: Str(), releasedPorts: Type.Array(Num()) }),
  'service.restart': RestartResult,
  'port.list': Type.Array(PortInfo),
  'port.get': PortInfo,
  'port.check': CheckResult,
  'port.allocate': AllocateResult,
  'port.release': ReleaseResult,
  'port.suggest': Type.Object({ ports: Type.Array(Num()) }),
  'port.reserve': PortInfo,
  'port.history': Type.Array(PortHistoryEntry),
  'range.list': Type.Array(Range),
  'conflict.list': Type.Array(Conflict),
  'conflict.detect': Type.Array(Conflict),
  'conflict.resolve': ResolveResult,
  'conflict.history': Type.Array(Conflict),
  'conflict.plan': AutoResolvePlan,
  'health.list': Type.Array(HealthResult),
  'health.get': HealthResult,
  'health.check': Type.Array(HealthResult),
  'stats.ports': Type.Object({ ranges: Type.Array(RangeStats) }),
  'stats.services': Type.Object({ byStatus: Tally(SERVICE_STATUSES), services: Type.Array(ServiceStats) }),
  'stats.conflicts': ConflictStats,
  'stats.series': SeriesResult,
  'auth.whoami': WhoAmI,
  'auth.challenge': Challenge,
  'auth.prove': WhoAmI,
  'token.rotate': Type.Object({ service: Str(), token: Str() }),
  'daemon.status': DaemonStatus,
  'daemon.ping': Type.Literal('pong'),
  'daemon.config': EffectiveConfig,
  'events.subscribe': Type.Object({ subscribed: Subscribed, seq: Opt(Num()), gap: Opt(Type.Boolean()) }),
  'events.unsubscribe': Type.Object({ subscribed: Subscribed }),
  'rpc.discover': OpenRpcDocument,
};
