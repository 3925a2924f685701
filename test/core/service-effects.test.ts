import { describe, expect, it } from 'vitest';
import {
  registerEffects,
  releaseEffects,
  setPortEffects,
  toService,
  unregisterEffects,
  type ServiceInput,
} from '../../daemon/core/service-effects.ts';
import { applyOp, emptyState, type Effects, type State } from '../../daemon/core/state.ts';

const NOW = Date.parse('2026-03-01T12:00:00.000Z');
const input = (name: string, port: number, extra: Partial<ServiceInput> = {}): ServiceInput => ({
  name,
  port,
  protocol: 'tcp',
  host: '0.0.0.0',
  tags: [],
  origin: 'register',
  ...extra,
});

function apply(state: State, e: Effects): State {
  for (const op of e.ops) applyOp(state, op);
  return state;
}

describe('registerEffects', () => {
  it('creates a service, records history and announces registration and assignment', () => {
    const e = registerEffects(emptyState(), input('web', 8080), NOW);
    expect(e.events.map((x) => x.type)).toEqual(['service_registered', 'port_assigned']);
    expect(e.events[1]!.data).toEqual({ service: 'web', port: 8080 });
    const state = apply(emptyState(), e);
    expect(state.services.web).toMatchObject({ port: 8080, status: 'registered', registeredAt: '2026-03-01T12:00:00.000Z' });
    expect(state.history).toEqual([{ at: '2026-03-01T12:00:00.000Z', service: 'web', port: 8080, previous: null, why: 'register' }]);
    // A new service has no status line: 'registered' is unjudged time.
    expect(state.statusLog).toEqual([]);
  });

  it('updating a service keeps registeredAt and status, and reports the previous port', () => {
    const check = { healthCheck: { type: 'tcp' as const } };
    const state = apply(emptyState(), registerEffects(emptyState(), input('web', 8080, check), NOW));
    state.services.web!.status = 'healthy';
    const e = registerEffects(state, input('web', 8081, check), NOW + 1000);
    apply(state, e);
    expect(state.services.web).toMatchObject({
      port: 8081,
      status: 'healthy',
      registeredAt: '2026-03-01T12:00:00.000Z',
      updatedAt: '2026-03-01T12:00:01.000Z',
    });
    expect(e.events[1]!.data).toEqual({ service: 'web', port: 8081, previous: 8080 });
  });

  it('a new owner process, or a stopped service registering again, starts over as registered', () => {
    const state = apply(emptyState(), registerEffects(emptyState(), input('web', 8080, { pid: 10, healthCheck: { type: 'tcp' } }), NOW));
    state.services.web!.status = 'healthy';
    apply(state, registerEffects(state, input('web', 8080, { pid: 10, healthCheck: { type: 'tcp' } }), NOW));
    expect(state.services.web!.status).toBe('healthy');
    apply(state, registerEffects(state, input('web', 8080, { pid: 11 }), NOW + 1));
    expect(state.services.web!.status).toBe('registered');
    state.services.web!.status = 'stopped';
    apply(state, registerEffects(state, input('web', 8080, { pid: 11 }), NOW + 2));
    expect(state.services.web!.status).toBe('registered');
    // Each start-over is logged as a restart (stats.services counts them); the same owner again is not.
    expect(state.statusLog).toEqual([
      { at: '2026-03-01T12:00:00.001Z', service: 'web', status: 'registered', restart: true },
      { at: '2026-03-01T12:00:00.002Z', service: 'web', status: 'registered', restart: true },
    ]);
  });

  it('the same pid started again (a reused pid) is a new owner; an unknown start is not', () => {
    const state = apply(
      emptyState(),
      registerEffects(emptyState(), input('web', 8080, { pid: 10, pidStart: 'linux:5', healthCheck: { type: 'tcp' } }), NOW),
    );
    state.services.web!.status = 'healthy';
    apply(state, registerEffects(state, input('web', 8080, { pid: 10, healthCheck: { type: 'tcp' } }), NOW + 1));
    expect(state.services.web!.status).toBe('healthy');
    apply(state, registerEffects(state, input('web', 8080, { pid: 10, pidStart: 'linux:5', healthCheck: { type: 'tcp' } }), NOW + 2));
    apply(state, registerEffects(state, input('web', 8080, { pid: 10, pidStart: 'linux:9', healthCheck: { type: 'tcp' } }), NOW + 3));
    expect(state.services.web!.status).toBe('registered');
    expect(state.statusLog).toEqual([{ at: '2026-03-01T12:00:00.003Z', service: 'web', status: 'registered', restart: true }]);
  });

  it('an explicit registration adopts a service that an allocation created', () => {
    const state = apply(emptyState(), registerEffects(emptyState(), input('job', 9000, { origin: 'allocate', expiresAt: 'x' }), NOW));
    apply(state, registerEffects(state, input('job', 9000), NOW));
    expect(state.services.job!.origin).toBe('register');
    expect(state.services.job!.expiresAt).toBeUndefined();
  });

  it('the wire form hides internal fields', () => {
    const state = apply(emptyState(), registerEffects(emptyState(), input('web', 8080), NOW));
    expect(toService(state.services.web!)).not.toHaveProperty('origin');
    const owned = apply(emptyState(), registerEffects(emptyState(), input('web', 8080, { pid: 10, pidStart: 'linux:5' }), NOW));
    expect(toService(owned.services.web!)).not.toHaveProperty('pidStart');
  });
});

describe('moving and removing', () => {
  const base = () => apply(emptyState(), registerEffects(emptyState(), input('web', 8080), NOW));

  it('setPort moves the service and is a no-op for the same port', () => {
    const state = base();
    const e = setPortEffects(state, 'web', 8090, NOW, 'setPort');
    expect(e.events).toEqual([{ type: 'port_assigned', data: { service: 'web', port: 8090, previous: 8080 } }]);
    expect(setPortEffects(apply(state, e), 'web', 8090, NOW, 'setPort').ops).toEqual([]);
  });

  it('unregister releases the port', () => {
    const e = unregisterEffects(base(), 'web', NOW, 'unregister');
    expect(e.releasedPorts).toEqual([8080]);
    expect(e.events.map((x) => x.type)).toEqual(['port_released', 'service_unregistered']);
    expect(apply(base(), e).services.web).toBeUndefined();
  });

  it('release removes every holder and the reservation of the port', () => {
    const state = base();
    apply(state, registerEffects(state, input('web2', 8080), NOW));
    state.reservations['tcp/8080'] = { port: 8080, protocol: 'tcp', createdAt: 'x' };
    apply(state, releaseEffects(state, 'tcp', 8080, ['web', 'web2'], NOW));
    expect(state.services).toEqual({});
    expect(state.reservations).toEqual({});
  });
});

describe('re-registration keeps what it should', () => {
  it('an adopted owner survives a re-registration that names no owner: no restart, same status', () => {
    const state = apply(emptyState(), registerEffects(emptyState(), input('web', 8080, { healthCheck: { type: 'tcp' } }), NOW));
    Object.assign(state.services.web!, { pid: 42, process: 'node', adopted: true, status: 'healthy' });
    const e = registerEffects(state, input('web', 8080, { tags: ['deployed'], healthCheck: { type: 'tcp' } }), NOW + 1);
    apply(state, e);
    expect(state.services.web).toMatchObject({ pid: 42, process: 'node', adopted: true, status: 'healthy', tags: ['deployed'] });
    expect(e.ops.filter((op) => op.op === 'status')).toEqual([]);
  });

  it('removing the health check sends a judged service back to registered, not counted as a restart', () => {
    const state = apply(emptyState(), registerEffects(emptyState(), input('web', 8080, { healthCheck: { type: 'tcp' } }), NOW));
    state.services.web!.status = 'unhealthy';
    const e = registerEffects(state, input('web', 8080), NOW + 1);
    apply(state, e);
    expect(state.services.web!.status).toBe('registered');
    expect(state.statusLog.at(-1)).toEqual({ at: '2026-03-01T12:00:00.001Z', service: 'web', status: 'registered' });
  });
});

describe('toService', () => {
  it('hides restart env values and cwd (names stay), and leaves the rest of the record as it is', () => {
    const state = apply(
      emptyState(),
      registerEffects(
        emptyState(),
        input('web', 8080, { restart: { command: ['run', '--fast'], cwd: '/srv/web', env: { TOKEN: 's3cret', MODE: 'x' } } }),
        NOW,
      ),
    );
    const record = state.services.web!;
    expect(toService(record).restart).toEqual({ command: ['run', '--fast'], cwd: '***', env: { TOKEN: '***', MODE: '***' } });
    expect(record.restart).toEqual({ command: ['run', '--fast'], cwd: '/srv/web', env: { TOKEN: 's3cret', MODE: 'x' } });
    const plain = apply(
      emptyState(),
      registerEffects(emptyState(), input('web', 8080, { restart: { command: ['run'], timeoutSec: 5 } }), NOW),
    );
    expect(toService(plain.services.web!).restart).toEqual({ command: ['run'], timeoutSec: 5 });
    const signal = apply(emptyState(), registerEffects(emptyState(), input('web', 8080, { restart: { signal: 'SIGHUP' } }), NOW));
    expect(toService(signal.services.web!).restart).toEqual({ signal: 'SIGHUP' });
  });

  it('the service_registered event carries the hidden form', () => {
    const e = registerEffects(emptyState(), input('web', 8080, { restart: { command: ['run'], env: { TOKEN: 's3cret' } } }), NOW);
    expect(JSON.stringify(e.events)).not.toContain('s3cret');
  });
});

describe('key order on the wire', () => {
  // The record is built key by key (core/copy.ts); replies, events, the journal and the snapshot show its keys in this order.
  it('a new record: the input fields as given, then owner, token hash, status and times; origin stays in its place', () => {
    const e = registerEffects(
      emptyState(),
      input('web', 8080, { pid: 7, restart: { command: ['run'], cwd: '/srv' }, owner: { uid: 1 }, tokenHash: 'h' }),
      NOW,
    );
    expect(Object.keys(e.service)).toEqual([
      'name',
      'port',
      'protocol',
      'host',
      'tags',
      'origin',
      'pid',
      'restart',
      'owner',
      'tokenHash',
      'status',
      'registeredAt',
      'updatedAt',
    ]);
    const shown = toService(e.service);
    expect(Object.keys(shown)).toEqual([
      'name',
      'port',
      'protocol',
      'host',
      'tags',
      'pid',
      'restart',
      'owner',
      'status',
      'registeredAt',
      'updatedAt',
    ]);
    expect(shown.restart).toEqual({ command: ['run'], cwd: '***' });
  });

  it('an update keeps the first owner and an adopted process after the input fields', () => {
    const state = apply(emptyState(), registerEffects(emptyState(), input('web', 8080, { owner: { uid: 1 }, tokenHash: 'h' }), NOW));
    Object.assign(state.services.web!, { pid: 42, process: 'node', adopted: true });
    const e = registerEffects(state, input('web', 8080, { owner: { uid: 2 }, tokenHash: 'other' }), NOW + 1);
    expect(Object.keys(e.service)).toEqual([
      'name',
      'port',
      'protocol',
      'host',
      'tags',
      'origin',
      'owner',
      'tokenHash',
      'pid',
      'process',
      'adopted',
      'status',
      'registeredAt',
      'updatedAt',
    ]);
    expect(e.service).toMatchObject({ owner: { uid: 1 }, tokenHash: 'h', pid: 42, adopted: true });
  });
});
