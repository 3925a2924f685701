// The method table: each handler validates its params, calls one operation,
// and returns the contract's result. Errors thrown here are DomainErrors;
// jsonrpc.ts maps them (and anything unexpected) onto the wire.
import type { Conflict, DaemonStatus, HealthResult, HealthCheck, Methods, Strategy } from '../client/protocol.ts';
import { conflictHistory, listConflicts, resolve } from './conflicts.ts';
import { invalidParams, notFound } from './core/errors.ts';
import type { EventBus } from './events.ts';
import type { Handler } from './jsonrpc.ts';
import { allocate, listPorts, portInfo, release, reserve, suggest } from './ports.ts';
import { checkPort } from './allocator.ts';
import type { Registry } from './registry.ts';
import type { Connection } from './server.ts';
import { getService, listServices, register, setPort, unregister } from './services.ts';
import { conflictsStats, rangeStats, servicesStats } from './stats.ts';
import * as v from './validate.ts';

export interface RpcContext {
  conn: Connection;
}

export interface App {
  registry: Registry;
  bus: EventBus;
  version: string;
  startedAt: number;
  socketPath: string;
  stateFile: string;
  /** Scans now, reconciles, and returns the open conflicts. */
  detect: () => Promise<Conflict[]>;
  /** Runs the health checks of the named services (all with one when none are named) now. */
  checkHealth: (names?: string[]) => Promise<HealthResult[]>;
}

const MAX_TTL = 365 * 24 * 3600;
const STRATEGIES: readonly Strategy[] = ['auto', 'manual', 'swap', 'reserve'];
const TAG = { pattern: /^[\w.:/-]{1,64}$/, hint: 'must be 1-64 characters of letters, digits, . _ : / -', max: 64 };

/** The healthCheck param: undefined keeps the service's check, null removes it. */
function healthCheck(p: v.Params): HealthCheck | null | undefined {
  const h = p.healthCheck;
  if (h === undefined || h === null) return h;
  if (typeof h !== 'object' || h === null || Array.isArray(h)) throw invalidParams('healthCheck', 'must be an object { type: "http", url } or { type: "tcp" }');
  const hc = h as v.Params;
  const type = v.optEnum(hc, 'type', ['http', 'tcp'] as const);
  if (!type) throw invalidParams('healthCheck.type', 'is required: "http" or "tcp"');
  const intervalSec = v.optInt(hc, 'intervalSec', 1, 86_400);
  const timeoutMs = v.optInt(hc, 'timeoutMs', 1, 600_000);
  const common = { ...(intervalSec !== undefined && { intervalSec }), ...(timeoutMs !== undefined && { timeoutMs }) };
  if (type === 'tcp') return { type, ...common };
  const url = v.optString(hc, 'url', { pattern: /^https?:\/\/\S+$/, hint: 'must be an http:// or https:// URL' });
  if (!url) throw invalidParams('healthCheck.url', 'is required for an http check');
  return { type, url, ...common };
}

type Table = { [M in keyof Methods]?: Handler<RpcContext> };

export function methodTable(app: App): Table {
  const { registry } = app;
  /** The name of a registered service that has a health check, or -32001 saying which is missing. */
  const withCheck = (name: string): string => {
    const s = registry.state.services[name];
    if (!s) throw notFound('service', name);
    if (!s.healthCheck) throw notFound('health check', name);
    return name;
  };
  return {
    'service.register': (p) => {
      v.only(p, ['name', 'port', 'protocol', 'host', 'pid', 'process', 'healthCheck', 'tags', 'range', 'exclusive']);
      const range = v.optString(p, 'range');
      const port = v.optPort(p);
      const pid = v.optInt(p, 'pid', 1, 2 ** 31 - 1);
      const proc = v.optString(p, 'process', { max: 255 });
      const hc = healthCheck(p);
      const tags = v.optStringArray(p, 'tags', { ...TAG, max: 32 });
      const exclusive = v.optBool(p, 'exclusive');
      return register(registry, {
        name: v.reqString(p, 'name', v.SERVICE_NAME),
        protocol: v.protocol(p),
        host: v.optHost(p) ?? '0.0.0.0',
        ...(port !== undefined && { port }),
        ...(range !== undefined && { range }),
        ...(pid !== undefined && { pid }),
        ...(proc !== undefined && { process: proc }),
        ...(hc !== undefined && { healthCheck: hc }),
        ...(tags !== undefined && { tags }),
        ...(exclusive !== undefined && { exclusive }),
      });
    },
    'service.list': (p) => {
      v.only(p, ['status', 'tag']);
      const status = v.optEnum(p, 'status', ['registered', 'healthy', 'unhealthy', 'stopped'] as const);
      const tag = v.optString(p, 'tag');
      return listServices(registry, { ...(status && { status }), ...(tag !== undefined && { tag }) });
    },
    'service.get': (p) => (v.only(p, ['name']), getService(registry, v.reqString(p, 'name'))),
    'service.setPort': (p) => (v.only(p, ['name', 'port']), setPort(registry, { name: v.reqString(p, 'name'), port: v.reqPort(p) })),
    'service.unregister': (p) => (v.only(p, ['name']), unregister(registry, v.reqString(p, 'name'))),
    'service.restart': (p) => {
      v.only(p, ['name']);
      const name = v.reqString(p, 'name');
      if (!registry.state.services[name]) throw notFound('service', name);
      return { name, restarted: false, reason: 'no restart action is configured for this service' };
    },

    'port.list': (p) => {
      v.only(p, ['state', 'range', 'limit']);
      const state = v.optEnum(p, 'state', ['assigned', 'reserved', 'listening', 'free'] as const);
      const range = v.optString(p, 'range');
      const limit = v.optInt(p, 'limit', 1, 65536) ?? (state === 'free' ? 1000 : 65536);
      return listPorts(registry, { limit, ...(state && { state }), ...(range !== undefined && { range }) });
    },
    'port.get': (p) => (v.only(p, ['port', 'protocol']), portInfo(registry, v.protocol(p), v.reqPort(p))),
    'port.check': (p) => {
      v.only(p, ['port', 'protocol', 'host']);
      return checkPort(registry, v.reqPort(p), v.protocol(p), v.optHost(p) ?? '0.0.0.0');
    },
    'port.allocate': (p) => {
      v.only(p, ['service', 'preferred', 'range', 'protocol', 'host', 'ttlSec', 'pid']);
      const preferred = v.optPort(p, 'preferred');
      const range = v.optString(p, 'range');
      const ttlSec = v.optInt(p, 'ttlSec', 1, MAX_TTL);
      const pid = v.optInt(p, 'pid', 1, 2 ** 31 - 1);
      return allocate(registry, {
        service: v.reqString(p, 'service', v.SERVICE_NAME),
        protocol: v.protocol(p),
        host: v.optHost(p) ?? '0.0.0.0',
        ...(preferred !== undefined && { preferred }),
        ...(range !== undefined && { range }),
        ...(ttlSec !== undefined && { ttlSec }),
        ...(pid !== undefined && { pid }),
      });
    },
    'port.release': (p) => {
      v.only(p, ['port', 'protocol', 'service']);
      const service = v.optString(p, 'service');
      return release(registry, { port: v.reqPort(p), protocol: v.protocol(p), ...(service !== undefined && { service }) });
    },
    'port.suggest': (p) => {
      v.only(p, ['count', 'range', 'near', 'protocol']);
      const range = v.optString(p, 'range');
      const near = v.optPort(p, 'near');
      return suggest(registry, {
        count: v.optInt(p, 'count', 1, 100) ?? 5,
        protocol: v.protocol(p),
        ...(range !== undefined && { range }),
        ...(near !== undefined && { near }),
      });
    },
    'port.reserve': (p) => {
      v.only(p, ['port', 'protocol', 'for', 'reason', 'ttlSec']);
      const forName = v.optString(p, 'for', v.SERVICE_NAME);
      const reason = v.optString(p, 'reason', { max: 500 });
      const ttlSec = v.optInt(p, 'ttlSec', 1, MAX_TTL);
      return reserve(registry, {
        port: v.reqPort(p),
        protocol: v.protocol(p),
        ...(forName !== undefined && { for: forName }),
        ...(reason !== undefined && { reason }),
        ...(ttlSec !== undefined && { ttlSec }),
      });
    },
    'range.list': (p) => (v.only(p, []), registry.deps.ranges),

    'conflict.list': (p) => (v.only(p, ['open']), listConflicts(registry, v.optBool(p, 'open') ?? true)),
    'conflict.detect': (p) => (v.only(p, []), app.detect()),
    'conflict.resolve': (p) => {
      v.only(p, ['service', 'conflictId', 'strategy', 'newPort', 'withService', 'by']);
      const strategy = v.optEnum(p, 'strategy', STRATEGIES);
      if (!strategy) throw invalidParams('strategy', `is required: one of ${STRATEGIES.join(', ')}`);
      const service = v.optString(p, 'service');
      const conflictId = v.optString(p, 'conflictId');
      if (service === undefined && conflictId === undefined) throw invalidParams('service', 'is required unless conflictId is given');
      const newPort = v.optPort(p, 'newPort');
      const withService = v.optString(p, 'withService');
      return resolve(registry, {
        strategy,
        by: v.optString(p, 'by', { max: 100 }) ?? 'operator',
        ...(service !== undefined && { service }),
        ...(conflictId !== undefined && { conflictId }),
        ...(newPort !== undefined && { newPort }),
        ...(withService !== undefined && { withService }),
      });
    },
    'conflict.history': (p) => {
      v.only(p, ['limit', 'since']);
      const since = v.optString(p, 'since');
      if (since !== undefined && Number.isNaN(Date.parse(since))) throw invalidParams('since', 'must be an ISO-8601 date or time');
      return conflictHistory(registry, { limit: v.optInt(p, 'limit', 1, 10_000) ?? 100, ...(since !== undefined && { since }) });
    },

    'health.list': (p) => {
      v.only(p, []);
      return [...registry.health.values()].map(({ history: _h, ...latest }) => latest).sort((a, b) => a.service.localeCompare(b.service));
    },
    'health.get': (p) => {
      v.only(p, ['service']);
      const name = withCheck(v.reqString(p, 'service'));
      const result = registry.health.get(name);
      if (!result) throw notFound('health result', name);
      return result;
    },
    'health.check': async (p) => {
      v.only(p, ['service']);
      const name = v.optString(p, 'service');
      const results = await app.checkHealth(name !== undefined ? [withCheck(name)] : undefined);
      return results.map(({ history: _h, ...latest }) => latest);
    },

    'stats.ports': (p) => (v.only(p, []), rangeStats(registry)),
    'stats.services': (p) => (v.only(p, []), servicesStats(registry)),
    'stats.conflicts': (p) => (v.only(p, []), conflictsStats(registry)),

    'daemon.status': (p): DaemonStatus => {
      v.only(p, []);
      const scan = registry.lastScan;
      return {
        version: app.version,
        pid: process.pid,
        uptimeSec: Math.round((registry.now() - app.startedAt) / 1000),
        socket: app.socketPath,
        stateFile: app.stateFile,
        services: Object.keys(registry.state.services).length,
        openConflicts: listConflicts(registry, true).length,
        lastScan: scan && { at: new Date(scan.at).toISOString(), durationMs: scan.durationMs, listeners: scan.listeners.length },
      };
    },
    'daemon.ping': () => 'pong',
    'events.subscribe': (p, ctx) => {
      v.only(p, ['types', 'sinceSeq']);
      return app.bus.subscribe(ctx.conn, p.types, p.sinceSeq);
    },
    'events.unsubscribe': (p, ctx) => (v.only(p, ['types']), app.bus.unsubscribe(ctx.conn, p.types)),
  };
}
