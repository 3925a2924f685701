// stats.series: one metric's points over time. Params arrive checked against
// their schema (client/schema/observe.ts); which of range and service a
// metric takes, and that the range is a configured one, are checked here.
import { invalidParams } from '../core/errors.ts';
import { resolveRange } from '../core/ranges.ts';
import { seriesOf } from '../ops/series.ts';
import type { App, Routes } from './app.ts';
import { time } from './validate.ts';

export function seriesRoutes({ registry, allocator }: App): Routes<'stats.series'> {
  return {
    'stats.series': (p) => {
      const { metric, range, service, step } = p;
      const from = time(p.from, 'from');
      const to = time(p.to, 'to');
      let subject = '';
      if (metric.startsWith('range.')) {
        if (service !== undefined) throw invalidParams('service', `is not a parameter of ${metric}`);
        // Series are kept per configured range: an inline span counts only when it is exactly one of them.
        const r = resolveRange(range ?? 'registered', allocator.ranges);
        const configured = allocator.ranges.find((c) => c.start === r.start && c.end === r.end);
        if (!configured) throw invalidParams('range', 'must be a configured range (see range.list): series are kept per range');
        subject = configured.name;
      } else if (metric.startsWith('service.')) {
        if (range !== undefined) throw invalidParams('range', `is not a parameter of ${metric}`);
        if (service === undefined) throw invalidParams('service', `is required for ${metric}`);
        subject = service;
      } else if (range !== undefined || service !== undefined) {
        throw invalidParams(range !== undefined ? 'range' : 'service', `is not a parameter of ${metric}`);
      }
      return seriesOf(registry, {
        metric,
        subject,
        ...(from !== undefined && { from }),
        ...(to !== undefined && { to }),
        ...(step !== undefined && { stepSec: step }),
      });
    },
  };
}
