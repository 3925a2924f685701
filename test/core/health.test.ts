import { describe, expect, it } from 'vitest';
import { LIMITS } from '../../client/protocol.ts';
import {
  checkEffects,
  checkTarget,
  dueForCheck,
  HEALTH_HISTORY,
  healthView,
  judge,
  latestResults,
  parseExpectStatus,
  statusExpected,
  thresholdsOf,
  type Thresholds,
} from '../../daemon/core/health.ts';
import { HEALTH_LOG_LIMIT } from '../../daemon/core/health-log.ts';
import { applyOp, emptyState, type ServiceRecord, type State } from '../../daemon/core/state.ts';
import { iso, serviceRecord } from './fixtures.ts';

const T0 = Date.parse('2026-05-01T00:00:00.000Z');
const svc = (name: string, extra: Partial<ServiceRecord> = {}) => serviceRecord(name, 8080, T0, extra);

describe('checkTarget', () => {
  it.each([
    [svc('a'), null],
    [
      svc('b', { healthCheck: { type: 'http', url: 'http://127.0.0.1:8080/health' } }),
      { type: 'http', url: 'http://127.0.0.1:8080/health', timeoutMs: 2000 },
    ],
    [svc('c', { healthCheck: { type: 'tcp', timeoutMs: 500 } }), { type: 'tcp', host: '127.0.0.1', port: 8080, timeoutMs: 500 }],
    [svc('d', { host: '::', healthCheck: { type: 'tcp' } }), { type: 'tcp', host: '::1', port: 8080, timeoutMs: 2000 }],
    [svc('e', { host: '10.1.2.3', healthCheck: { type: 'tcp' } }), { type: 'tcp', host: '10.1.2.3', port: 8080, timeoutMs: 2000 }],
  ])('%# %o', (s, want) => expect(checkTarget(s)).toEqual(want));
});

describe('dueForCheck', () => {
  it('never-checked services are due; others after their own interval, else the default', () => {
    const state = emptyState();
    state.services.fast = svc('fast', { healthCheck: { type: 'tcp', intervalSec: 5 } });
    state.services.slow = svc('slow', { healthCheck: { type: 'tcp' } });
    state.services.none = svc('none');
    const last = new Map([
      ['fast', T0],
      ['slow', T0],
    ]);
    expect(dueForCheck(state, new Map(), T0, 30)).toEqual(['fast', 'slow']);
    expect(dueForCheck(state, last, T0 + 4_400, 30)).toEqual([]);
    expect(dueForCheck(state, last, T0 + 5_000, 30)).toEqual(['fast']);
    expect(dueForCheck(state, last, T0 + 30_000, 30)).toEqual(['fast', 'slow']);
  });

  it('a check that finished a few ms after its tick is due at the tick one interval later, not one after that', () => {
    const state = emptyState();
    state.services.every = svc('every', { healthCheck: { type: 'tcp', intervalSec: 1 } });
    // Started at the tick T0, stamped when the probe finished 12 ms later; the next tick is 3 ms early.
    const last = new Map([['every', T0 + 12]]);
    expect(dueForCheck(state, last, T0 + 997, 30)).toEqual(['every']);
    expect(dueForCheck(state, last, T0 + 400, 30)).toEqual([]);
  });
});

const T = { failuresBeforeUnhealthy: 2, successesBeforeHealthy: 1, restartAfterFailures: null };
const up = { ok: true, latencyMs: 3 };
const down = { ok: false, latencyMs: null, error: 'ECONNREFUSED' };

/** Applies a check's effects to `state` as the registry would. */
function check(state: State, name: string, outcome: typeof up | typeof down, now: number, t: Thresholds = T) {
  const fx = checkEffects(state, name, outcome, now, t)!;
  for (const op of fx.ops) applyOp(state, op);
  return fx;
}

describe('judge', () => {
  const zero = { failures: 0, successes: 0 };
  it.each([
    ['one failure of a healthy service changes nothing', 'healthy', zero, false, T, 'healthy'],
    ['the second consecutive failure makes it unhealthy', 'healthy', { failures: 1, successes: 0 }, false, T, 'unhealthy'],
    ['a failure threshold of 1 flips at once', 'healthy', zero, false, { ...T, failuresBeforeUnhealthy: 1 }, 'unhealthy'],
    ['one success heals by default', 'unhealthy', { failures: 5, successes: 0 }, true, T, 'healthy'],
    [
      'successesBeforeHealthy 3 needs three',
      'unhealthy',
      { failures: 0, successes: 1 },
      true,
      { ...T, successesBeforeHealthy: 3 },
      'unhealthy',
    ],
    ['... and the third heals', 'unhealthy', { failures: 0, successes: 2 }, true, { ...T, successesBeforeHealthy: 3 }, 'healthy'],
    ['a new service stays unjudged until a threshold is met', 'registered', zero, false, T, 'registered'],
    ['stopped is never overridden', 'stopped', zero, true, T, 'stopped'],
  ] as const)('%s', (_what, status, streak, ok, t, want) => {
    expect(judge(status, streak, ok, t).status).toBe(want);
  });

  it('a success ends a failure streak, and a failure a success streak', () => {
    expect(judge('healthy', { failures: 1, successes: 0 }, true, T)).toEqual({ status: 'healthy', failures: 0, successes: 1 });
    expect(judge('healthy', { failures: 0, successes: 4 }, false, T)).toEqual({ status: 'healthy', failures: 1, successes: 0 });
  });
});

describe('checkEffects', () => {
  it('records every result, and a change of status only once its threshold is met, with a service_health event', () => {
    const state = emptyState();
    state.services.web = svc('web', { status: 'healthy', healthCheck: { type: 'tcp' } });
    const first = check(state, 'web', down, T0);
    expect(first.events).toEqual([]);
    expect(first.ops).toEqual([
      {
        op: 'health',
        name: 'web',
        value: {
          entry: { status: 'healthy', ok: false, latencyMs: null, checkedAt: iso(T0), error: 'ECONNREFUSED' },
          failures: 1,
          successes: 0,
        },
      },
    ]);
    expect(first.result).toMatchObject({ service: 'web', status: 'healthy', ok: false, history: [] });
    const second = check(state, 'web', down, T0 + 1);
    expect(second.events).toEqual([
      { type: 'service_health', data: { service: 'web', status: 'unhealthy', previous: 'healthy', error: 'ECONNREFUSED' } },
    ]);
    expect(second.ops.slice(1)).toEqual([
      {
        op: 'service',
        name: 'web',
        value: { ...svc('web', { healthCheck: { type: 'tcp' } }), status: 'unhealthy', updatedAt: iso(T0 + 1) },
      },
      { op: 'status', value: { at: iso(T0 + 1), service: 'web', status: 'unhealthy' } },
    ]);
    expect(second.result.history).toEqual([expect.objectContaining({ checkedAt: iso(T0), ok: false })]);
    expect(check(state, 'web', down, T0 + 2).events).toEqual([]);
    expect(check(state, 'web', up, T0 + 3).events).toMatchObject([{ data: { status: 'healthy', previous: 'unhealthy', latencyMs: 3 } }]);
  });

  it('asks for a restart at every restartAfterFailures-th consecutive failure', () => {
    const state = emptyState();
    state.services.web = svc('web', { healthCheck: { type: 'tcp' } });
    const t = { ...T, restartAfterFailures: 2 };
    expect([1, 2, 3, 4].map((i) => check(state, 'web', down, T0 + i, t).restart)).toEqual([false, true, false, true]);
    expect(check(state, 'web', up, T0 + 5, t).restart).toBe(false);
    expect(check(state, 'web', down, T0 + 6, t).restart).toBe(false);
  });

  it('nothing for a service that is gone', () => {
    expect(checkEffects(emptyState(), 'gone', up, T0, T)).toBeNull();
  });
});

describe('the persisted log', () => {
  it('keeps HEALTH_LOG_LIMIT results per service; healthView shows them newest first, up to a limit; unregistering drops them', () => {
    const state = emptyState();
    state.services.web = svc('web', { healthCheck: { type: 'tcp' } });
    for (let i = 0; i < HEALTH_LOG_LIMIT + 10; i++) check(state, 'web', { ok: true, latencyMs: i }, T0 + i);
    expect(state.health!.web!.entries).toHaveLength(HEALTH_LOG_LIMIT);
    const view = healthView(state, 'web', 5)!;
    expect(view.latencyMs).toBe(HEALTH_LOG_LIMIT + 9);
    expect(view.history!.map((h) => h.latencyMs)).toEqual([58, 57, 56, 55]);
    expect(healthView(state, 'web')!.history).toHaveLength(HEALTH_HISTORY - 1);
    expect(latestResults(state).get('web')).toMatchObject({ latencyMs: HEALTH_LOG_LIMIT + 9 });
    applyOp(state, { op: 'service', name: 'web', value: null });
    expect(healthView(state, 'web')).toBeNull();
  });
});

describe('expectStatus', () => {
  it.each([
    ['200-399', 204, true],
    ['200-399', 404, false],
    [undefined, 301, true],
    [undefined, 101, false],
    ['200', 204, false],
    ['200,204', 204, true],
    ['200, 300-302', 302, true],
  ])('%s and %i: %s', (expect_, status, want) => expect(statusExpected(expect_, status)).toBe(want));

  it.each(['', '2xx', '200-', '99', '600', '300-200', 'x,200'])('refuses %j', (text) => {
    expect(typeof parseExpectStatus(text)).toBe('string');
  });

  it('is part of the target, so a changed expectation makes a probe stale', () => {
    expect(checkTarget(svc('x', { healthCheck: { type: 'http', url: 'http://127.0.0.1/', expectStatus: '200' } }))).toMatchObject({
      expectStatus: '200',
    });
  });
});

describe('thresholdsOf', () => {
  it("takes the check's own, else the config's, else 2 and 1", () => {
    expect(thresholdsOf({ type: 'tcp' }, {})).toEqual({
      failuresBeforeUnhealthy: 2,
      successesBeforeHealthy: 1,
      restartAfterFailures: null,
    });
    expect(thresholdsOf({ type: 'tcp' }, { failuresBeforeUnhealthy: 5 })).toMatchObject({ failuresBeforeUnhealthy: 5 });
    expect(
      thresholdsOf({ type: 'tcp', failuresBeforeUnhealthy: 1, restartAfterFailures: 3 }, { failuresBeforeUnhealthy: 5 }),
    ).toMatchObject({ failuresBeforeUnhealthy: 1, restartAfterFailures: 3 });
  });
});

describe('stopped services', () => {
  it('are not due for checks, and a probe result never overrides stopped', () => {
    const state = emptyState();
    state.services.gone = svc('gone', { status: 'stopped', healthCheck: { type: 'tcp' } });
    expect(dueForCheck(state, new Map(), T0, 30)).toEqual([]);
    expect(checkEffects(state, 'gone', up, T0, T)!.events).toEqual([]);
  });
});

describe('the timeout cap', () => {
  it('holds a check stored before the cap existed to LIMITS.healthTimeoutMs', () => {
    expect(checkTarget(svc('old', { healthCheck: { type: 'tcp', timeoutMs: 600_000 } }))).toMatchObject({
      timeoutMs: LIMITS.healthTimeoutMs,
    });
  });
});
