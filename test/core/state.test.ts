import { describe, expect, it } from 'vitest';
import {
  applyOp,
  emptyState,
  HISTORY_LIMIT,
  iso,
  STATUS_LOG_PER_SERVICE,
  statusOp,
  trimOldest,
  type AssignmentEvent,
} from '../../daemon/core/state.ts';

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

describe('history at its cap', () => {
  const line = (i: number): AssignmentEvent => ({ at: iso(i), service: `s${i}`, port: 10_000 + i, previous: null, why: 'register' });

  it('drops the oldest line per op once full, keeping the newest HISTORY_LIMIT in order', () => {
    const state = emptyState();
    for (let i = 0; i < HISTORY_LIMIT + 25; i++) applyOp(state, { op: 'history', value: line(i) });
    expect(state.history).toHaveLength(HISTORY_LIMIT);
    expect(state.history).toStrictEqual(Array.from({ length: HISTORY_LIMIT }, (_, k) => line(k + 25)));
  });

  it('cuts a history loaded longer than the cap down to the newest lines at the next op', () => {
    const state = emptyState();
    state.history = Array.from({ length: HISTORY_LIMIT + 300 }, (_, i) => line(i));
    applyOp(state, { op: 'history', value: line(HISTORY_LIMIT + 300) });
    expect(state.history).toHaveLength(HISTORY_LIMIT);
    expect(state.history[0]).toStrictEqual(line(301));
    expect(state.history.at(-1)).toStrictEqual(line(HISTORY_LIMIT + 300));
  });

  it('trimOldest leaves a log at or under its limit alone and removes only from the front', () => {
    const log = [1, 2, 3];
    trimOldest(log, 3);
    expect(log).toEqual([1, 2, 3]);
    log.push(4);
    trimOldest(log, 3);
    expect(log).toEqual([2, 3, 4]);
    log.push(5, 6, 7);
    trimOldest(log, 2);
    expect(log).toEqual([6, 7]);
    trimOldest(log, 0);
    expect(log).toEqual([]);
  });
});
