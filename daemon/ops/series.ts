// The time series: record the rows a tick owes, prune by wall-clock age, and
// answer stats.series. The bucket logic is core/series.ts; this gathers the
// registry's data for it and writes rows as ops, so they are durable.
import type { HealthResult, Range, SeriesMetric, SeriesResult } from '../../client/protocol.ts';
import { invalidParams } from '../core/errors.ts';
import { dueRows, HOUR, MAX_POINTS, MINUTE, querySeries, rollup, sampleMinute, seriesKey } from '../core/series.ts';
import { iso } from '../core/state.ts';
import type { Registry } from '../registry.ts';
import { rangeStats } from './stats.ts';

/** Writes the minute that just ended and any hour it completes. */
export function recordSeries(registry: Registry, ranges: readonly Range[], health: () => Iterable<HealthResult>): Promise<void> {
  return registry.mutate((tx) => {
    const now = registry.now();
    const due = dueRows(tx.state.series, now);
    if (due.minute !== null) {
      const points = sampleMinute(
        {
          ranges: rangeStats(registry, ranges).ranges,
          openConflicts: Object.values(tx.state.conflicts).filter((c) => c.resolvedAt === null).length,
          services: Object.values(tx.state.services),
          statusLog: tx.state.statusLog,
          health: health(),
        },
        due.minute,
        due.minute + MINUTE,
      );
      tx.apply({ ops: [{ op: 'series', value: { table: 'minute', at: due.minute, points } }], events: [] });
    }
    for (const h of due.hours) {
      tx.apply({
        ops: [{ op: 'series', value: { table: 'hour', at: h, points: rollup(tx.state.series!.minute, h, h + HOUR) } }],
        events: [],
      });
    }
  });
}

export interface SeriesQuery {
  metric: SeriesMetric;
  /** The range's or service's name; '' for conflicts.open. */
  subject: string;
  from?: number;
  to?: number;
  stepSec?: number;
}

export function seriesOf(registry: Registry, q: SeriesQuery): SeriesResult {
  const now = registry.now();
  const span = q.from !== undefined && q.to !== undefined ? q.to - q.from : undefined;
  const stepSec = q.stepSec ?? (span !== undefined && span > 24 * HOUR ? 3600 : 60);
  const step = stepSec * 1000;
  // By default a series ends with the last complete step: the current one has no bucket yet.
  const to = q.to ?? Math.floor(now / step) * step;
  const from = q.from ?? to - (step % HOUR === 0 ? 90 * 24 * HOUR : 24 * HOUR);
  if (from >= to) throw invalidParams('from', 'must be before "to"');
  const count = Math.ceil((to - Math.floor(from / step) * step) / step);
  if (count > MAX_POINTS)
    throw invalidParams('step', `gives ${count} points over that span; at most ${MAX_POINTS}: use a larger step or a shorter span`);
  const points = querySeries(registry.state.series, seriesKey(q.metric, q.subject), from, to, step);
  return { metric: q.metric, step: stepSec, points: points.map(([t, v]) => [iso(t), v]) };
}
