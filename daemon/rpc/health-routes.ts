// health.* routes.
import { compareNames } from '../../client/protocol.ts';
import { notFound } from '../core/errors.ts';
import { healthView } from '../core/health.ts';
import type { App, Routes } from './app.ts';

export function healthRoutes(app: App): Routes<'health.list' | 'health.get' | 'health.check'> {
  const { registry, health } = app;
  /** The name of a registered service that has a health check, or -32001 saying which is missing. */
  const withCheck = (name: string): string => {
    const s = registry.state.services[name];
    if (!s) throw notFound('service', name);
    if (!s.healthCheck) throw notFound('health check', name);
    return name;
  };
  return {
    'health.list': () => {
      return [...health.results.values()].map(({ history: _h, ...latest }) => latest).sort((a, b) => compareNames(a.service, b.service));
    },
    'health.get': (p) => {
      const name = withCheck(p.service);
      // From the persisted results: the history survives a daemon restart.
      const result = healthView(registry.state, name, p.limit);
      if (!result) throw notFound('health result', name);
      return result;
    },
    'health.check': async (p) => {
      const name = p.service;
      const results = await health.checkNow(name !== undefined ? [withCheck(name)] : undefined);
      return results.map(({ history: _h, ...latest }) => latest);
    },
  };
}
