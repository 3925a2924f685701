import { describe, expect, it } from 'vitest';
import { portHistory } from '../../daemon/core/history.ts';
import { releaseEffects, reserveEffects } from '../../daemon/core/service-effects.ts';
import { applyOp, emptyState, type AssignmentEvent, type Op } from '../../daemon/core/state.ts';

const T0 = Date.UTC(2025, 0, 1);
const at = (min: number) => new Date(T0 + min * 60_000).toISOString();
const h = (
  min: number,
  service: string,
  port: number | null,
  previous: number | null,
  why: string,
  extra: Partial<AssignmentEvent> = {},
): AssignmentEvent => ({
  at: at(min),
  service,
  port,
  previous,
  why,
  ...extra,
});

const LINES: AssignmentEvent[] = [
  h(0, 'web', 3000, null, 'register'),
  h(1, 'job', 40000, null, 'allocate'),
  h(2, 'web', 3001, 3000, 'setPort'),
  h(3, 'job', null, 40000, 'lease-expired'),
  h(4, 'api', 8080, null, 'register', { by: 'alice' }),
  h(5, 'web', null, 3001, 'unregister'),
  h(6, '', 9000, null, 'reserve', { action: 'reserved' }),
  h(7, 'db', null, 5432, 'expired', { action: 'unreserved' }),
  h(8, 'job2', null, 40001, 'reclaimed'),
];

describe('portHistory', () => {
  it('names each line for the contract, newest first, with who did it', () => {
    expect(portHistory(LINES, { limit: 100 }, 'bob')).toEqual([
      { time: at(8), action: 'released', service: 'job2', port: 40001, by: 'daemon' },
      { time: at(7), action: 'unreserved', service: 'db', port: 5432, by: 'daemon' },
      { time: at(6), action: 'reserved', port: 9000, by: 'bob' },
      { time: at(5), action: 'released', service: 'web', port: 3001, by: 'bob' },
      { time: at(4), action: 'assigned', service: 'api', port: 8080, by: 'alice' },
      { time: at(3), action: 'lease_expired', service: 'job', port: 40000, by: 'daemon' },
      { time: at(2), action: 'moved', service: 'web', port: 3001, previous: 3000, by: 'bob' },
      { time: at(1), action: 'assigned', service: 'job', port: 40000, by: 'bob' },
      { time: at(0), action: 'assigned', service: 'web', port: 3000, by: 'bob' },
    ]);
  });

  it.each([
    ['by service', { service: 'web' }, [5, 2, 0]],
    ['by port, as the new or the previous one', { port: 3000 }, [2, 0]],
    ['since a time', { since: T0 + 6 * 60_000 }, [8, 7, 6]],
    ['at most limit, the newest', { limit: 2 }, [8, 7]],
    ['all of them at once', { service: 'web', port: 3001, since: T0 + 60_000 }, [5, 2]],
  ])('filters %s', (_what, q, minutes) => {
    const got = portHistory(LINES, { limit: 100, ...q }, 'bob');
    expect(got.map((e) => e.time)).toEqual(minutes.map(at));
  });
});

describe('reservation history lines', () => {
  it('a new reservation and its release are recorded, for whom they were', () => {
    const state = emptyState();
    const apply = (ops: Op[]) => ops.forEach((op) => applyOp(state, op));
    apply(reserveEffects({ port: 9000, protocol: 'tcp', for: 'web', createdAt: at(0) }, { now: T0, why: 'reserve' }).ops);
    apply(releaseEffects(state, 'tcp', 9000, [], T0 + 60_000).ops);
    expect(portHistory(state.history, { limit: 10 }, 'bob')).toEqual([
      { time: at(1), action: 'unreserved', service: 'web', port: 9000, by: 'bob' },
      { time: at(0), action: 'reserved', service: 'web', port: 9000, by: 'bob' },
    ]);
  });

  it('an update of a reservation writes no line', () => {
    const fx = reserveEffects({ port: 9000, protocol: 'tcp', createdAt: at(0) });
    expect(fx.ops.map((o) => o.op)).toEqual(['reservation']);
  });
});
