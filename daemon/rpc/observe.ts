// What the daemon observes and reports: health.*, stats.*, daemon.*, events.*.
import type { DaemonStatus } from '../../client/protocol.ts';
import { listConflicts } from '../conflicts.ts';
import { notFound } from '../core/errors.ts';
import { conflictsStats, rangeStats, servicesStats } from '../stats.ts';
import type { App, Routes } from '../rpc.ts';
import * as v from '../validate.ts';

export function observeRoutes(app: App): Routes {
  const { registry } = app;
  /** The name of a registered service that has a health check, or -32001 saying which is missing. */
  const withCheck = (name: string): string => {
    const s = registry.state.services[name];
    if (!s) throw notFound('service', name);
    if (!s.healthCheck) throw notFound('health check', name);
    return name;
  };
  return {
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
