// stats.* routes.
import { conflictsStats, rangeStats, servicesStats } from '../ops/stats.ts';
import type { App, Routes } from './app.ts';
import * as v from './validate.ts';

export function statsRoutes({ registry, allocator, health }: App): Routes<'stats.ports' | 'stats.services' | 'stats.conflicts'> {
  return {
    'stats.ports': (p) => (v.only(p, []), rangeStats(registry, allocator.ranges)),
    'stats.services': (p) => (v.only(p, []), servicesStats(registry, health.results)),
    'stats.conflicts': (p) => (v.only(p, []), conflictsStats(registry)),
  };
}
