// withTiming counts every routed call once, whether its handler answers at
// once or later, and whether it succeeds or throws; results pass unchanged.
import { describe, expect, it } from 'vitest';
import { RequestStats } from '../../daemon/core/request-stats.ts';
import { withTiming } from '../../daemon/rpc/timing.ts';

const T0 = Date.parse('2025-01-01T00:00:00Z');

describe('withTiming', () => {
  it('records sync and async results, sync throws and rejections, once each', async () => {
    const stats = new RequestStats();
    const m = withTiming(stats, () => T0, {
      sync: () => 1,
      later: async () => 2,
      throws: () => {
        throw new Error('no');
      },
      rejects: async () => {
        throw new Error('later no');
      },
    });
    expect(m.sync!({}, {})).toBe(1);
    expect(await m.later!({}, {})).toBe(2);
    expect(() => m.throws!({}, {})).toThrow('no');
    await expect(m.rejects!({}, {})).rejects.toThrow('later no');
    const f = stats.figures(T0);
    expect(f.totalSinceStart).toBe(4);
    for (const name of ['sync', 'later', 'throws', 'rejects']) expect(f.byMethod[name]?.count).toBe(1);
  });
});
