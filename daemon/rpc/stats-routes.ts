// stats.* routes.
import { conflictsStats, rangeStats, servicesStats } from '../ops/stats.ts';
import type { App, Routes } from './app.ts';

export function statsRoutes({ registry, allocator, health }: App): Routes<'stats.ports' | 'stats.services' | 'stats.conflicts'> {
  return {
    'stats.ports': () => rangeStats(registry, allocator.ranges),
    'stats.services': () => servicesStats(registry, health.results),
    'stats.conflicts': () => conflictsStats(registry),
  };
}
