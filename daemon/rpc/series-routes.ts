// stats.series: one metric's points over time.
import { SERIES_METRICS } from '../../client/protocol.ts';
import { invalidParams } from '../core/errors.ts';
import { resolveRange } from '../core/ranges.ts';
import { seriesOf } from '../ops/series.ts';
import type { App, Routes } from './app.ts';
import * as v from './validate.ts';

const MAX_STEP_SEC = 90 * 24 * 3600;

export function seriesRoutes({ registry, allocator }: App): Routes<'stats.series'> {
  return {
    'stats.series': (p) => {
      v.only(p, ['metric', 'range', 'service', 'from', 'to', 'step']);
      const metric = v.optEnum(p, 'metric', SERIES_METRICS);
      if (metric === undefined) throw invalidParams('metric', `is required: one of ${SERIES_METRICS.join(', ')}`);
      const range = v.optString(p, 'range');
      const service = v.optString(p, 'service', v.SERVICE_NAME);
      const from = optTime(p, 'from');
      const to = optTime(p, 'to');
      const step = v.optInt(p, 'step', 60, MAX_STEP_SEC);
      if (step !== undefined && step % 60 !== 0) throw invalidParams('step', 'must be a multiple of 60 (seconds)');
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

function optTime(p: v.Params, field: string): number | undefined {
  const text = v.optString(p, field, { max: 64 });
  if (text === undefined) return undefined;
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw invalidParams(field, 'must be an ISO-8601 date or time');
  return t;
}
