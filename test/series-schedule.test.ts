import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BUILTIN_RANGES } from '../daemon/core/ranges.ts';
import { HOUR, MINUTE } from '../daemon/core/series.ts';
import { emptyState } from '../daemon/core/state.ts';
import { memoryRegistry } from './memory-registry.ts';
import { SeriesSchedule } from '../daemon/series-schedule.ts';

const T0 = Date.parse('2025-01-01T00:00:00Z');

function setup() {
  const state = emptyState();
  const { registry, journal } = memoryRegistry(() => Date.now(), state);
  const warnings: unknown[] = [];
  const schedule = new SeriesSchedule({
    registry,
    ranges: BUILTIN_RANGES,
    health: () => [],
    log: { warn: (obj) => void warnings.push(obj) },
  });
  return { state, journal, schedule, warnings };
}

describe('SeriesSchedule', () => {
  let stop: (() => void) | undefined;
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(T0 + 30_000);
  });
  afterEach(() => {
    stop?.();
    vi.useRealTimers();
  });

  it('writes a row at the start of every minute and an hour row as each hour ends, through the journal', async () => {
    const { state, journal, schedule, warnings } = setup();
    stop = () => schedule.stop();
    schedule.start();
    await vi.advanceTimersByTimeAsync(MINUTE);
    expect(state.series!.minute.times).toEqual([T0]);
    expect(state.series!.minute.values['conflicts.open:']).toEqual([0]);
    await vi.advanceTimersByTimeAsync(HOUR);
    expect(state.series!.minute.times.length).toBe(61);
    expect(state.series!.hour.times).toEqual([T0]);
    expect(state.series!.hour.values['range.assigned:registered']).toEqual([0]);
    expect(journal.filter((o) => o.op === 'series').length).toBe(62);
    expect(warnings).toEqual([]);
  });

  it('prunes minutes after 24 h and hours after 90 days', async () => {
    const { state, schedule } = setup();
    await schedule.record();
    vi.setSystemTime(T0 + HOUR + 1000);
    await schedule.record();
    // 23:59 and 00:59; both hours they fall in have ended.
    expect(state.series!.minute.times).toEqual([T0 - MINUTE, T0 + HOUR - MINUTE]);
    expect(state.series!.hour.times).toEqual([T0 - HOUR, T0]);

    vi.setSystemTime(T0 + 25 * HOUR);
    await schedule.prune('minutes');
    expect(state.series!.minute.times).toEqual([]);
    expect(state.series!.hour.times).toEqual([T0 - HOUR, T0]);

    vi.setSystemTime(T0 + 91 * 24 * HOUR);
    await schedule.prune('minutes');
    expect(state.series!.hour.times).toEqual([T0 - HOUR, T0]);
    await schedule.prune('all');
    expect(state.series!.hour.times).toEqual([]);
  });

  it('stops writing once stopped', async () => {
    const { state, schedule } = setup();
    schedule.start();
    schedule.stop();
    await vi.advanceTimersByTimeAsync(5 * MINUTE);
    expect(state.series).toBeUndefined();
  });
});
