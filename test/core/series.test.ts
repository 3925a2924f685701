import { describe, expect, it } from 'vitest';
import type { HealthResult } from '../../client/protocol.ts';
import {
  appendSeriesRow,
  DAY,
  dueRows,
  emptySeries,
  forecastExhaustion,
  HOUR,
  MAX_SERIES_KEYS,
  MINUTE,
  pruneSeries,
  querySeries,
  rollup,
  sampleMinute,
  seriesKey,
  seriesOf,
  upShare,
  type SeriesState,
} from '../../daemon/core/series.ts';
import { applyOp, emptyState, type StatusEvent } from '../../daemon/core/state.ts';
import { iso, rangeStats } from './fixtures.ts';

// A fixed clock: 2025-01-02 00:00 UTC, on a whole hour.
const T0 = Date.UTC(2025, 0, 2);

const line = (service: string, at: number, status: StatusEvent['status']): StatusEvent => ({ at: iso(at), service, status });

/** Writes minute rows through applyOp, as the journal replay does. */
function withMinutes(values: Array<[number, Record<string, number | null>]>): SeriesState {
  const state = emptyState();
  for (const [at, points] of values) applyOp(state, { op: 'series', value: { table: 'minute', at, points } });
  return state.series!;
}

describe('series tables', () => {
  it('appends rows as columns, filling nulls for series that start late or skip a row', () => {
    const s = withMinutes([
      [T0, { 'a:': 1 }],
      [T0 + MINUTE, { 'a:': 2, 'b:': 5 }],
      [T0 + 2 * MINUTE, { 'b:': 6 }],
    ]);
    expect(s.minute).toEqual({ times: [T0, T0 + MINUTE, T0 + 2 * MINUTE], values: { 'a:': [1, 2, null], 'b:': [null, 5, 6] } });
  });

  it('ignores a row at or before the last one, so a doubled tick or a replay changes nothing', () => {
    const s = withMinutes([
      [T0, { 'a:': 1 }],
      [T0, { 'a:': 9 }],
      [T0 - MINUTE, { 'a:': 9 }],
    ]);
    expect(s.minute).toEqual({ times: [T0], values: { 'a:': [1] } });
  });

  it('keeps at most 24 h of minutes, dropping the oldest', () => {
    const rows: Array<[number, Record<string, number>]> = [];
    for (let i = 0; i < 1440 + 5; i++) rows.push([T0 + i * MINUTE, { 'a:': i }]);
    const s = withMinutes(rows);
    expect(s.minute.times.length).toBe(1440);
    expect(s.minute.times[0]).toBe(T0 + 5 * MINUTE);
    expect(s.minute.values['a:']![0]).toBe(5);
  });

  it('records no more than MAX_SERIES_KEYS series', () => {
    const table = emptySeries().minute;
    const points = Object.fromEntries(Array.from({ length: MAX_SERIES_KEYS + 10 }, (_, i) => [`k:${i}`, i]));
    appendSeriesRow(table, T0, points, 'minute');
    expect(Object.keys(table.values).length).toBe(MAX_SERIES_KEYS);
  });

  it('prunes by wall-clock age and drops series left empty', () => {
    const s = withMinutes([
      [T0, { 'a:': 1, 'gone:': 3 }],
      [T0 + MINUTE, { 'a:': 2 }],
    ]);
    pruneSeries(s, T0 + MINUTE, 0);
    expect(s.minute).toEqual({ times: [T0 + MINUTE], values: { 'a:': [2] } });
  });

  it('replaces a malformed series with an empty one instead of failing', () => {
    const state = { series: { minute: { times: 'nope' } } as unknown as SeriesState };
    expect(seriesOf(state)).toEqual(emptySeries());
  });
});

describe('upShare', () => {
  const from = T0;
  const to = T0 + MINUTE;
  it.each([
    ['healthy all minute (line before it)', [line('s', T0 - HOUR, 'healthy')], 'healthy', 1],
    ['unhealthy from the middle', [line('s', T0 - HOUR, 'healthy'), line('s', T0 + 30_000, 'unhealthy')], 'unhealthy', 0.5],
    ['stopped counts as down', [line('s', T0 - HOUR, 'stopped')], 'stopped', 0],
    [
      'registered is not judged: only the judged half counts',
      [line('s', T0 - HOUR, 'registered'), line('s', T0 + 30_000, 'healthy')],
      'healthy',
      1,
    ],
    ['nothing judged: null', [line('s', T0 - HOUR, 'registered')], 'registered', null],
    ['no line at all: its current status held', [], 'healthy', 1],
    ['no line before the minute: unjudged until the first', [line('s', T0 + 45_000, 'unhealthy')], 'unhealthy', 0],
    ['lines after the minute are ignored', [line('s', T0 - HOUR, 'healthy'), line('s', to, 'unhealthy')], 'unhealthy', 1],
  ] as const)('%s', (_what, log, current, expected) => {
    expect(upShare(log, current, from, to)).toBe(expected);
  });
});

describe('sampleMinute', () => {
  it('records range gauges, open conflicts, and per service uptime and mean latency of checks in the minute', () => {
    const health: HealthResult[] = [
      {
        service: 'web',
        status: 'healthy',
        latencyMs: 30,
        checkedAt: iso(T0 + 50_000),
        history: [
          { status: 'healthy', latencyMs: 10, checkedAt: iso(T0 + 20_000) },
          { status: 'healthy', latencyMs: 999, checkedAt: iso(T0 - 10_000) }, // the minute before
          { status: 'unhealthy', latencyMs: null, checkedAt: iso(T0 + 5_000) },
        ],
      },
    ];
    const points = sampleMinute(
      {
        ranges: [rangeStats('dev')],
        openConflicts: 3,
        services: [
          { name: 'web', status: 'healthy' },
          { name: 'job', status: 'registered' },
        ],
        statusLog: [line('web', T0 - HOUR, 'healthy')],
        health,
      },
      T0,
      T0 + MINUTE,
    );
    expect(points).toEqual({
      'range.assigned:dev': 2,
      'range.reserved:dev': 1,
      'range.listening:dev': 1,
      'range.utilisation:dev': 0.4,
      'conflicts.open:': 3,
      'service.up:web': 1,
      'service.latencyMs:web': 20,
    });
  });
});

describe('rollup and dueRows', () => {
  it('an hour row is the mean of its minutes, ignoring gaps', () => {
    const s = withMinutes([
      [T0, { 'a:': 1 }],
      [T0 + MINUTE, { 'a:': null, 'b:': 4 }],
      [T0 + 2 * MINUTE, { 'a:': 3 }],
      [T0 + HOUR, { 'a:': 100 }],
    ]);
    expect(rollup(s.minute, T0, T0 + HOUR)).toEqual({ 'a:': 2, 'b:': 4 });
  });

  it('owes the minute that just ended, once', () => {
    expect(dueRows(undefined, T0 + 5 * MINUTE + 10)).toEqual({ minute: T0 + 4 * MINUTE, hours: [] });
    const s = withMinutes([[T0 + 4 * MINUTE, {}]]);
    expect(dueRows(s, T0 + 5 * MINUTE + 10).minute).toBeNull();
  });

  it('owes each complete hour after the last hour row, and no more than the minutes cover', () => {
    const s = withMinutes([[T0 + 10 * MINUTE, { 'a:': 1 }]]);
    // At 03:00:01 with minutes since 00:10 and no hour row: 00:00, 01:00 and 02:00 are complete.
    expect(dueRows(s, T0 + 3 * HOUR + 1_000).hours).toEqual([T0, T0 + HOUR, T0 + 2 * HOUR]);
    appendSeriesRow(s.hour, T0 + HOUR, {}, 'hour');
    expect(dueRows(s, T0 + 3 * HOUR + 1_000).hours).toEqual([T0 + 2 * HOUR]);
    // After two days down, only the last day can have minutes left.
    expect(dueRows(s, T0 + 2 * DAY + 1_000).hours[0]).toBe(T0 + DAY);
  });
});

describe('querySeries', () => {
  const s = withMinutes([
    [T0, { 'a:': 1 }],
    [T0 + MINUTE, { 'a:': 3 }],
    [T0 + 3 * MINUTE, { 'a:': 5 }],
  ]);

  it('gives one point per step, null where nothing was recorded', () => {
    expect(querySeries(s, 'a:', T0, T0 + 4 * MINUTE, MINUTE)).toEqual([
      [T0, 1],
      [T0 + MINUTE, 3],
      [T0 + 2 * MINUTE, null],
      [T0 + 3 * MINUTE, 5],
    ]);
  });

  it('averages the rows of a wider step, aligned to the step', () => {
    expect(querySeries(s, 'a:', T0 + 30_000, T0 + 4 * MINUTE, 2 * MINUTE)).toEqual([
      [T0, 2],
      [T0 + 2 * MINUTE, 5],
    ]);
  });

  it('reads hours from the minutes when they reach back far enough', () => {
    expect(querySeries(s, 'a:', T0, T0 + HOUR, HOUR)).toEqual([[T0, 3]]);
  });

  it('reads whole hours from the hour table, and an unknown series as nulls', () => {
    const h = emptySeries();
    appendSeriesRow(h.hour, T0, { 'a:': 7 }, 'hour');
    expect(querySeries(h, 'a:', T0, T0 + 2 * HOUR, HOUR)).toEqual([
      [T0, 7],
      [T0 + HOUR, null],
    ]);
    expect(querySeries(h, 'nope:', T0, T0 + HOUR, HOUR)).toEqual([[T0, null]]);
  });
});

describe('forecastExhaustion', () => {
  const r = { name: 'dev', size: 100, free: 50 };
  const hours = (n: number, used: (i: number) => number) => {
    const s = emptySeries();
    for (let i = 0; i < n; i++) appendSeriesRow(s.hour, T0 + i * HOUR, { [seriesKey('range.utilisation', 'dev')]: used(i) / 100 }, 'hour');
    return s.hour;
  };

  it('stays null with less than a day of hourly points', () => {
    expect(
      forecastExhaustion(
        hours(23, (i) => i),
        r,
        T0 + 23 * HOUR,
      ),
    ).toBeNull();
    expect(forecastExhaustion(undefined, r, T0)).toBeNull();
  });

  it('extrapolates the growth of the last days to the moment no port is free', () => {
    // One more port used per hour; 50 free at the end: 50 hours on.
    const now = T0 + 47 * HOUR;
    expect(
      forecastExhaustion(
        hours(48, (i) => i),
        r,
        now,
      ),
    ).toBe(iso(now + 50 * HOUR));
  });

  it('says nothing when use is flat or falling', () => {
    expect(
      forecastExhaustion(
        hours(48, () => 50),
        r,
        T0 + 47 * HOUR,
      ),
    ).toBeNull();
    expect(
      forecastExhaustion(
        hours(48, (i) => 90 - i),
        r,
        T0 + 47 * HOUR,
      ),
    ).toBeNull();
  });
});
