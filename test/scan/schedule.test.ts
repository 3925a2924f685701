import { describe, expect, it } from 'vitest';
import { cronPlan, isDue } from '../../daemon/scan/schedule.ts';

describe('cronPlan', () => {
  it.each([
    [1, '* * * * * *', false, 1_000],
    [10, '*/10 * * * * *', false, 10_000],
    [30, '*/30 * * * * *', false, 30_000],
    [7, '* * * * * *', true, 1_000], // */7 would fire 4 s after :56
    [45, '*/15 * * * * *', true, 15_000],
    [90, '*/30 * * * * *', true, 30_000],
    [60, '0 * * * * *', false, 60_000],
    [300, '0 */5 * * * *', false, 300_000],
    [420, '0 * * * * *', true, 60_000],
    [3600, '0 0 * * * *', false, 3_600_000],
    [7200, '0 0 */2 * * *', false, 7_200_000],
    [18_000, '0 0 * * * *', true, 3_600_000], // 5 h
  ])('%i s -> "%s" (gated %s)', (sec, expression, gated, tickMs) => {
    expect(cronPlan(sec)).toEqual({ expression, gated, tickMs });
  });

  it.each([0, -5, 1.5, Number.NaN])('refuses %s', (sec) => {
    expect(() => cronPlan(sec)).toThrow(RangeError);
  });
});

describe('isDue', () => {
  it.each([
    // [last run at, now, interval s, tick ms, due]
    [null, 0, 7, 1_000, true],
    [0, 6_000, 7, 1_000, false],
    [0, 7_000, 7, 1_000, true],
    [20, 7_000, 7, 1_000, true], // the last run fired 20 ms late: still due on the 7 s tick
    [0, 60_000, 90, 30_000, false],
    [0, 90_000, 90, 30_000, true],
  ])('last %s, now %i, every %i s (tick %i ms) -> %s', (last, now, sec, tick, due) => {
    expect(isDue(last, now, sec, tick)).toBe(due);
  });
});
