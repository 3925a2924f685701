import { describe, expect, it } from 'vitest';
import { bar, fit, lineChart, sparkline } from '../../client/cli/charts.ts';
import { safe } from '../../client/cli/safe.ts';
import { chartStep, renderSeries, renderStats } from '../../client/cli/stats.ts';
import { paint } from '../../client/cli/format.ts';
import type { SeriesResult } from '../../client/protocol.ts';
import { rangeStats } from '../core/fixtures.ts';

describe('sparkline', () => {
  it.each([
    [[0, 0.5, 1], { min: 0, max: 1 }, '▁▅█'],
    [[1, 1, 1, 1], { min: 0, max: 1 }, '████'],
    [[0, null, 1], { min: 0, max: 1 }, '▁ █'],
    [[10, 20, 30, 40, 50, 60, 70, 80], {}, '▁▂▃▄▅▆▇█'],
    [[5, 5], {}, '██'],
    [[0, 0], {}, '▁▁'],
    [[null, null], {}, '  '],
  ] as const)('%j %j -> "%s"', (values, scale, expected) => {
    expect(sparkline(values, scale)).toBe(expected);
  });
});

describe('bar', () => {
  it.each([
    [0, 10, '░░░░░░░░░░'],
    [0.25, 10, '███░░░░░░░'],
    [0.0001, 10, '█░░░░░░░░░'],
    [1, 10, '██████████'],
    [1.5, 4, '████'],
  ])('%d of %d cells', (share, width, expected) => {
    expect(bar(share, width)).toBe(expected);
  });
});

describe('fit', () => {
  it('averages neighbours down to the width and keeps gaps', () => {
    expect(fit([1, 3, null, null, 5, 7], 3)).toEqual([2, null, 6]);
    expect(fit([1, 2], 5)).toEqual([1, 2]);
  });
});

describe('lineChart', () => {
  it('draws a rising and falling line with a labelled axis', () => {
    expect(lineChart([0, 1, 2, 1, 0], { height: 3 })).toBe(['2 ┤  ╭╮', '1 ┤ ╭╯╰╮', '0 ┤─╯  ╰'].join('\n'));
  });

  it('draws a jump across rows with a vertical, and leaves gaps blank', () => {
    expect(lineChart([0, 4, null, 4], { height: 5 })).toBe(['4 ┤ ╭ ─', '3 ┤ │', '2 ┤ │', '1 ┤ │', '0 ┤─╯'].join('\n'));
  });

  it('a flat line sits in the middle; no data says so', () => {
    expect(lineChart([3, 3, 3], { height: 3 })).toBe(['4 ┤', '3 ┤───', '2 ┤'].join('\n'));
    expect(lineChart([null], { height: 3 })).toBe('(no data)');
  });
});

describe('stats pictures', () => {
  const series: SeriesResult = {
    metric: 'conflicts.open',
    step: 60,
    points: [
      ['2025-01-01T00:00:00.000Z', 0],
      ['2025-01-01T00:01:00.000Z', null],
      ['2025-01-01T00:02:00.000Z', 2],
    ],
  };

  it('a series is plain numbers without pictures', () => {
    expect(renderSeries(series, false)).toBe(
      [
        'conflicts.open, one point per 1m',
        '2025-01-01T00:00:00.000Z  0',
        '2025-01-01T00:01:00.000Z  -',
        '2025-01-01T00:02:00.000Z  2',
      ].join('\n'),
    );
  });

  it('and a chart with them', () => {
    const text = renderSeries(series, true);
    expect(text.split('\n')[0]).toBe('conflicts.open, one point per 1m');
    const lines = text.split('\n');
    expect(lines[1]).toBe('   2 ┤  ─');
    expect(lines[10]).toBe('   0 ┤─');
    expect(text.split('\n').at(-1)).toBe('2025-01-01T00:00 .. 2025-01-01T00:02 UTC');
  });

  it.each([
    [3600, 60],
    [86_400, 900],
    [7 * 86_400, 7200],
    [90 * 86_400, 79_200],
  ])('a chart over %i s has about a hundred points: step %i s', (span, step) => {
    expect(chartStep(span)).toBe(step);
  });

  it('draws a utilisation bar per range only with pictures', () => {
    const all = {
      ports: {
        ranges: [rangeStats('dev')],
      },
      services: { byStatus: {}, services: [] },
      conflicts: { open: 0, resolved: 0, vanished: 0, byType: {}, bySeverity: {}, meanTimeToResolveSec: null, topPorts: [] },
    };
    expect(renderStats(all, paint(false), true)).toContain('████████░░░░░░░░░░░░  40.0%');
    expect(renderStats(all, paint(false), false)).not.toContain('█');
  });
});

describe('safe', () => {
  it.each([
    ['plain-name.1', 'plain-name.1'],
    ['\x1b]0;pwned\x07', '\\u001b]0;pwned\\u0007'],
    ['a\nb\rc\td', 'a\\nb\\rc\\td'],
    ['\x9b31m', '\\u009b31m'],
    ['abc\u202edcb', 'abc\\u202edcb'],
    ['ünïcödé ✓', 'ünïcödé ✓'],
  ])('%j -> %j', (input, expected) => {
    expect(safe(input)).toBe(expected);
  });
});
