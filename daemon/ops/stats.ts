// The statistics methods: gather the registry's plain data and hand it to
// core/stats.ts, which does the counting.
import type { ConflictStats, HealthResult, Range, RangeStats } from '../../client/protocol.ts';
import { conflictStats, portStats, serviceStats, type ServiceStatsResult } from '../core/stats.ts';
import { forecastExhaustion } from '../core/series.ts';
import type { Registry } from '../registry.ts';

export function rangeStats(registry: Registry, ranges: readonly Range[]): { ranges: RangeStats[] } {
  const { state } = registry;
  const now = registry.now();
  return {
    ranges: portStats({
      ranges,
      services: Object.values(state.services),
      reservations: Object.values(state.reservations),
      listeners: registry.index.allListeners(),
      history: state.history,
      now,
      forecast: (range) => forecastExhaustion(state.series?.hour, range, now),
    }),
  };
}

export function servicesStats(registry: Registry, health: ReadonlyMap<string, HealthResult>): ServiceStatsResult {
  const { state } = registry;
  return serviceStats({
    services: Object.values(state.services),
    statusLog: state.statusLog,
    history: state.history,
    health,
    now: registry.now(),
  });
}

export function conflictsStats(registry: Registry): ConflictStats {
  return conflictStats(Object.values(registry.state.conflicts));
}
