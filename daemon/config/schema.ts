// The config file's schema: every key it may hold (PROTOCOL.md "Config file
// keys"), each built from the blocks the params schemas use (client/schema/),
// so a port, a name, a URL or an enumeration means the same in a request and
// in the file. No object takes a key it does not list: a typo is an error
// naming its key path, never silently ignored.
//
// The daemon does not load this file to start: it checks the file with code
// generated from this schema (check.generated.ts, `npm run gen`), and loads
// it only to word the problems of a file that fails (problems.ts). What a
// schema cannot say (a range's start after its end, a name defined twice, a
// socket path too long for this platform) is checked in code after it
// (semantics.ts). This file lives with the daemon, not in client/schema: the
// client never checks a config file by itself (`portmand config check` runs
// this daemon code), and the log levels and sync modes are the daemon's.
import { Type, type SchemaOptions, type Static, type TProperties } from '@sinclair/typebox';
import { CONFLICT_TYPES, EVENT_TYPES, LIMITS, SEVERITIES } from '../../client/protocol.ts';
import { CONTROL_CLASS, Enum, HttpUrl, Int, Port, Protocol, ServiceName, Text } from '../../client/schema/common.ts';
import { CommandAction } from '../../client/schema/service.ts';
import { DEFAULT_ALERT_TIMEOUT_MS } from '../core/alerts.ts';
import { LOG_LEVELS } from '../log/log.ts';
import { SYNC_MODES } from '../store/store.ts';
import { GROUP_NAME, MAX_INTERVAL_SEC, SOCKET_MODES } from './readers.ts';

/** An object of the listed keys, every one optional unless `required` names it, and nothing else. */
const Keys = <P extends TProperties>(properties: P, options: SchemaOptions = {}) =>
  Type.Object(properties, { additionalProperties: false, ...options });

const Seconds = (options: SchemaOptions = {}) =>
  Int(1, MAX_INTERVAL_SEC, { problem: `must be a whole number of seconds from 1 to ${MAX_INTERVAL_SEC}`, ...options });

const GroupName = (description: string) => Type.String({ pattern: GROUP_NAME, problem: 'must be a group name', description });

const Opt = Type.Optional;

const RangeSchema = Keys({
  name: ServiceName({ description: 'the range name (the rule of a service name); not a built-in one' }),
  start: Port(),
  end: Port({ description: 'the last port of the range, at or after start' }),
  purpose: Opt(Text(LIMITS.reasonChars, { description: '"configured" when omitted' })),
});

const ReservationSchema = Keys({
  port: Port(),
  protocol: Opt(Protocol()),
  for: Opt(ServiceName({ description: 'the service the port is kept for' })),
  reason: Opt(Text(LIMITS.reasonChars)),
});

const AutoResolveSchema = Keys({
  type: Opt(Enum(CONFLICT_TYPES, { description: 'every type when omitted' })),
  minSeverity: Opt(Enum(SEVERITIES)),
  strategy: Type.Literal('auto'),
});

const AlertSchema = Keys({
  on: Type.Array(Enum(EVENT_TYPES), { minItems: 1, problem: 'must be a non-empty array of event types' }),
  minSeverity: Opt(Enum(SEVERITIES)),
  command: Opt(CommandAction.properties.command),
  webhook: Opt(HttpUrl()),
  timeoutMs: Opt(Int(1, 300_000, { description: `${DEFAULT_ALERT_TIMEOUT_MS} when omitted` })),
});

const threshold = (description: string) => Opt(Int(1, LIMITS.healthThreshold, { description }));

export const ConfigFileSchema = Keys(
  {
    ranges: Opt(Type.Array(RangeSchema, { description: 'ranges besides the built-in system, registered and dynamic' })),
    reservations: Opt(Type.Array(ReservationSchema, { description: 'ports kept out of allocation' })),
    scanIntervalSec: Opt(Seconds({ description: 'seconds between socket scans (PORTMAND_SCAN_INTERVAL wins)' })),
    healthIntervalSec: Opt(Seconds({ description: 'seconds between health checks (PORTMAND_HEALTH_INTERVAL wins)' })),
    logLevel: Opt(Enum(LOG_LEVELS, { description: 'PORTMAND_LOG_LEVEL wins' })),
    sync: Opt(Enum(SYNC_MODES, { description: 'PORTMAND_SYNC wins' })),
    groupAccess: Opt(Type.Boolean({ description: "let the socket's group connect (mode 0660)" })),
    avoidEphemeral: Opt(Type.Boolean({ description: "keep automatic allocations out of the OS's ephemeral range" })),
    socket: Opt(
      Keys({
        group: Opt(GroupName('the group of a socket the daemon binds itself (PORTMAND_SOCKET_GROUP wins)')),
        mode: Opt(Enum(Object.keys(SOCKET_MODES), { description: '"0660" when a group is given, else "0600"' })),
      }),
    ),
    health: Opt(
      Keys({
        allowRemote: Opt(Type.Boolean({ description: "let health checks reach addresses that are not this host's" })),
        failuresBeforeUnhealthy: threshold('the default of every check'),
        successesBeforeHealthy: threshold('the default of every check'),
      }),
    ),
    access: Opt(Keys({ adminGroup: Opt(GroupName('the group whose members are admins')) })),
    limits: Opt(
      Keys({
        mutationsPerSec: Opt(Int(1, 10_000_000, { description: "each caller's mutating calls per second" })),
        burst: Opt(Int(1, 10_000_000)),
        maxConnections: Opt(Int(1, 1_000_000)),
        maxConnectionsPerUser: Opt(Int(1, 1_000_000, { description: 'connections one user who is not an admin may hold' })),
        maxPortsPerUser: Opt(Int(1, 1_000_000, { description: 'services and reservations one user who is not an admin may own' })),
        idleTimeoutSec: Opt(Seconds({ description: 'how long a half-sent line may wait' })),
      }),
    ),
    conflicts: Opt(
      Keys({
        autoResolve: Opt(Type.Array(AutoResolveSchema, { description: 'the conflicts the daemon resolves by itself' })),
        maxMovesPerHour: Opt(Int(0, 1000, { description: 'how often the daemon may move one service' })),
      }),
    ),
    alerts: Opt(Type.Array(AlertSchema, { description: 'events that run a command or call a webhook; each needs one or both' })),
    portserver: Opt(
      Keys({
        address: Type.String({
          minLength: 1,
          pattern: `^[/@][^${CONTROL_CLASS}]*$`,
          problem: 'must be an absolute socket path, or "@name" for Linux\'s abstract namespace',
          description: 'an absolute socket path, or "@name" for Linux\'s abstract namespace',
        }),
      }),
    ),
  },
  { description: 'The portmand config file (PORTMAND_CONFIG, else the default location).' },
);

/** The config file, once it has passed its schema. */
export type ConfigFileJson = Static<typeof ConfigFileSchema>;
