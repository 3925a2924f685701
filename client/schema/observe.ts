// health.* and stats.* params.
import { Type } from '@sinclair/typebox';
import { LIMITS, SERIES_METRICS } from '../protocol.ts';
import { Enum, Int, NoParams, Params, ServiceName, ServiceRef, Text, Time } from './common.ts';

/** stats.series `step`: minutes up to 90 days. */
const MAX_STEP_SEC = 90 * 24 * 3600;

export const SeriesParams = Params({
  metric: Enum(SERIES_METRICS),
  range: Type.Optional(Text(64, { description: 'required for range.* metrics: a configured range name (or its exact "START-END")' })),
  service: Type.Optional(ServiceName({ description: 'required for service.* metrics' })),
  from: Type.Optional(Time('ISO time; default: 24 h (step 60) or, with step >= 3600, 90 days before `to`')),
  to: Type.Optional(Time('ISO time; default: now')),
  step: Type.Optional(
    Type.Integer({
      minimum: 60,
      maximum: MAX_STEP_SEC,
      multipleOf: 60,
      problem: `must be a whole number of seconds, a multiple of 60`,
      description: 'seconds per point, a multiple of 60; points are means of the minute or hour buckets',
    }),
  ),
});

export const observeParams = {
  'health.list': NoParams(),
  'health.get': Params({ service: ServiceRef(), limit: Type.Optional(Int(1, LIMITS.healthHistory)) }),
  'health.check': Params({ service: Type.Optional(ServiceRef({ description: 'every service with a check when omitted' })) }),
  'stats.ports': NoParams(),
  'stats.services': NoParams(),
  'stats.conflicts': NoParams(),
  'stats.series': SeriesParams,
};
