import { describe, expect, it } from 'vitest';
import { applyOp, emptyState, iso, STATUS_LOG_PER_SERVICE, statusOp } from '../../daemon/core/state.ts';

describe('status log', () => {
  it('keeps at most its share of lines per service, so one flapping service cannot push out the others', () => {
    const state = emptyState();
    applyOp(state, statusOp('stable', 'healthy', 0));
    for (let i = 1; i <= STATUS_LOG_PER_SERVICE + 50; i++) applyOp(state, statusOp('flap', i % 2 ? 'unhealthy' : 'healthy', i));
    expect(state.statusLog[0]).toMatchObject({ service: 'stable', status: 'healthy' });
    const flap = state.statusLog.filter((e) => e.service === 'flap');
    expect(flap).toHaveLength(STATUS_LOG_PER_SERVICE);
    expect(flap[0]!.at).toBe(new Date(51).toISOString());
  });
});

describe('applyOp', () => {
  it('keeps a copy of each record with the same keys, in order, and nested values shared', () => {
    const state = emptyState();
    const owner = { uid: 1000, user: 'ann' };
    const value = {
      ...{ name: 'web', port: 8080, protocol: 'tcp' as const, host: '127.0.0.1', tags: [] },
      owner,
      status: 'registered' as const,
    };
    const record = { ...value, origin: 'register' as const, registeredAt: iso(0), updatedAt: iso(0) };
    applyOp(state, { op: 'service', name: 'web', value: record });
    expect(state.services.web).toStrictEqual(record);
    expect(Object.keys(state.services.web!)).toEqual(Object.keys(record));
    expect(state.services.web!.owner).toBe(owner);
    applyOp(state, { op: 'history', value: { at: iso(0), service: 'web', port: 8080, previous: null, why: 'register' } });
    expect(state.history).toStrictEqual([{ at: iso(0), service: 'web', port: 8080, previous: null, why: 'register' }]);
  });
});

describe('iso', () => {
  it('gives the ISO-8601 form of each time, also when the same time comes again after another', () => {
    expect([iso(0), iso(1), iso(0), iso(0)]).toEqual([
      '1970-01-01T00:00:00.000Z',
      '1970-01-01T00:00:00.001Z',
      '1970-01-01T00:00:00.000Z',
      '1970-01-01T00:00:00.000Z',
    ]);
  });
});
