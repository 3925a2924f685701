import { describe, expect, it } from 'vitest';
import { RequestStats } from '../../daemon/core/request-stats.ts';

const T0 = Date.UTC(2025, 0, 1);

describe('RequestStats', () => {
  it('counts calls per method over the last minute, with p50 and p99 within the bin width', () => {
    const r = new RequestStats();
    for (let i = 1; i <= 100; i++) r.record('port.allocate', i, T0 + i * 100);
    r.record('daemon.ping', 0.5, T0);
    const f = r.figures(T0 + 10_000);
    expect(f.total).toBe(101);
    expect(f.totalSinceStart).toBe(101);
    const a = f.byMethod['port.allocate']!;
    expect(a.count).toBe(100);
    expect(a.countSinceStart).toBe(100);
    expect(a.p50Ms! / 50).toBeGreaterThan(0.95);
    expect(a.p50Ms! / 50).toBeLessThan(1.05);
    expect(a.p99Ms! / 99).toBeGreaterThan(0.95);
    expect(a.p99Ms! / 99).toBeLessThan(1.05);
    expect(Object.keys(f.byMethod)).toEqual(['daemon.ping', 'port.allocate']);
  });

  it('forgets calls older than a minute but keeps counting them since start', () => {
    const r = new RequestStats();
    r.record('daemon.ping', 1, T0);
    r.record('daemon.ping', 1, T0 + 30_000);
    expect(r.figures(T0 + 59_999).byMethod['daemon.ping']!.count).toBe(2);
    const later = r.figures(T0 + 61_000);
    expect(later.byMethod['daemon.ping']).toEqual({ count: 1, p50Ms: expect.any(Number), p99Ms: expect.any(Number), countSinceStart: 2 });
    const idle = r.figures(T0 + 200_000);
    expect(idle).toEqual({
      total: 0,
      byMethod: { 'daemon.ping': { count: 0, p50Ms: null, p99Ms: null, countSinceStart: 2 } },
      totalSinceStart: 2,
    });
  });

  it('places very slow and zero-time calls in the end bins instead of failing', () => {
    const r = new RequestStats();
    r.record('m', 0, T0);
    r.record('m', 10_000_000, T0);
    const m = r.figures(T0).byMethod.m!;
    expect(m.p50Ms).toBe(0.01);
    expect(m.p99Ms).toBeGreaterThan(200_000);
  });
});
