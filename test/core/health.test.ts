import { describe, expect, it } from 'vitest';
import { LIMITS } from '../../client/protocol.ts';
import { checkTarget, dueForCheck, HEALTH_HISTORY, healthEffects, healthResult } from '../../daemon/core/health.ts';
import { emptyState, type ServiceRecord } from '../../daemon/core/state.ts';

const T0 = Date.parse('2026-05-01T00:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();
function svc(name: string, extra: Partial<ServiceRecord> = {}): ServiceRecord {
  return { name, port: 8080, protocol: 'tcp', host: '0.0.0.0', status: 'registered', tags: [], registeredAt: iso(T0), updatedAt: iso(T0), origin: 'register', ...extra };
}

describe('checkTarget', () => {
  it.each([
    [svc('a'), null],
    [svc('b', { healthCheck: { type: 'http', url: 'http://127.0.0.1:8080/health' } }), { type: 'http', url: 'http://127.0.0.1:8080/health', timeoutMs: 2000 }],
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
    const last = new Map([['fast', T0], ['slow', T0]]);
    expect(dueForCheck(state, new Map(), T0, 30)).toEqual(['fast', 'slow']);
    expect(dueForCheck(state, last, T0 + 4_999, 30)).toEqual([]);
    expect(dueForCheck(state, last, T0 + 5_000, 30)).toEqual(['fast']);
    expect(dueForCheck(state, last, T0 + 30_000, 30)).toEqual(['fast', 'slow']);
  });
});

describe('healthResult and healthEffects', () => {
  it('keeps the previous results as history, newest first, bounded', () => {
    let r = healthResult('web', { ok: true, latencyMs: 3 }, T0, undefined);
    expect(r).toEqual({ service: 'web', status: 'healthy', latencyMs: 3, checkedAt: iso(T0), history: [] });
    r = healthResult('web', { ok: false, latencyMs: null, error: 'HTTP 503' }, T0 + 1, r);
    expect(r).toMatchObject({ status: 'unhealthy', error: 'HTTP 503', history: [{ status: 'healthy', latencyMs: 3, checkedAt: iso(T0) }] });
    for (let i = 2; i < 50; i++) r = healthResult('web', { ok: true, latencyMs: i }, T0 + i, r);
    expect(r.history).toHaveLength(HEALTH_HISTORY - 1);
    expect(r.history![0]!.latencyMs).toBe(48);
  });

  it('a change of status is an op and a service_health event; the same status again is nothing', () => {
    const state = emptyState();
    state.services.web = svc('web', { healthCheck: { type: 'tcp' } });
    const down = healthResult('web', { ok: false, latencyMs: null, error: 'ECONNREFUSED' }, T0, undefined);
    const e = healthEffects(state, down, T0);
    expect(e.events).toEqual([{ type: 'service_health', data: { service: 'web', status: 'unhealthy', previous: 'registered', error: 'ECONNREFUSED' } }]);
    expect(e.ops).toEqual([
      { op: 'service', name: 'web', value: { ...state.services.web, status: 'unhealthy', updatedAt: iso(T0) } },
      { op: 'status', value: { at: iso(T0), service: 'web', status: 'unhealthy' } },
    ]);
    state.services.web!.status = 'unhealthy';
    expect(healthEffects(state, down, T0 + 1)).toEqual({ ops: [], events: [] });
  });
});

describe('stopped services', () => {
  it('are not due for checks, and a probe result never overrides stopped', () => {
    const state = emptyState();
    state.services.gone = svc('gone', { status: 'stopped', healthCheck: { type: 'tcp' } });
    expect(dueForCheck(state, new Map(), T0, 30)).toEqual([]);
    const up = healthResult('gone', { ok: true, latencyMs: 1 }, T0, undefined);
    expect(healthEffects(state, up, T0)).toEqual({ ops: [], events: [] });
  });
});

describe('the timeout cap', () => {
  it('holds a check stored before the cap existed to LIMITS.healthTimeoutMs', () => {
    expect(checkTarget(svc('old', { healthCheck: { type: 'tcp', timeoutMs: 600_000 } }))).toMatchObject({ timeoutMs: LIMITS.healthTimeoutMs });
  });
});
