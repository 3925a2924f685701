import { describe, expect, it } from 'vitest';
import type { Strategy } from '../../client/protocol.ts';
import type { DomainError } from '../../daemon/core/errors.ts';
import { reconcile } from '../../daemon/core/reconcile.ts';
import { applyResolution, planResolution, type ResolveRequest } from '../../daemon/core/resolve.ts';
import { PortIndex } from '../../daemon/core/portindex.ts';
import { applyOp, type Reservation, type ServiceRecord, type State } from '../../daemon/core/state.ts';
import { conflictRecord, iso, reservationRecord, serviceRecord, stateOf, type ConflictFields } from './fixtures.ts';

const T0 = Date.parse('2025-01-01T00:00:00.000Z');
const NOW = T0 + 60_000;
const svc = (name: string, port: number, extra: Partial<ServiceRecord> = {}) => serviceRecord(name, port, T0, extra);
const conflict = (id: string, extra: ConflictFields) => conflictRecord(id, T0, extra);

const dup = conflict('c1', { type: 'duplicate_assignment', port: 8080, services: ['api', 'web'] });
const foreign = conflict('c2', { type: 'foreign_listener', port: 9000, services: ['db'], listener: { pid: 200, address: '0.0.0.0:9000' } });
const drift = conflict('c3', {
  type: 'drift',
  severity: 'warning',
  port: 7000,
  services: ['app'],
  listener: { pid: 5, address: '[::]:7001' },
});
const reservedNobody = conflict('c4', {
  type: 'reserved_in_use',
  severity: 'warning',
  port: 5432,
  services: [],
  listener: { pid: 9, address: '0.0.0.0:5432' },
});
const closed = conflict('c5', { type: 'foreign_listener', port: 1234, services: ['db'], resolvedAt: iso(T0 + 1) });

/** web registered before api, both on 8080; db with a foreign listener; app drifted; udp dns. */
const world = () =>
  stateOf({
    services: [
      svc('web', 8080),
      svc('api', 8080, { registeredAt: iso(T0 + 10) }),
      svc('db', 9000, { pid: 100 }),
      svc('app', 7000, { pid: 5 }),
      svc('dns', 5353, { protocol: 'udp' }),
      svc('lone', 3000),
    ],
    conflicts: [dup, foreign, drift, reservedNobody, closed],
    reservations: [reservationRecord(5432, T0)],
  });

/** Requests as the route passes them; the route (tested in test/rpc/conflict-routes.test.ts) has checked their shape. */
const req = (r: { strategy: Strategy; service?: string; conflictId?: string; newPort?: number; withService?: string }): ResolveRequest =>
  ({ by: 'alice', ...r }) as ResolveRequest;

function refusal(fn: () => unknown): Pick<DomainError, 'code' | 'data'> {
  try {
    fn();
  } catch (e) {
    const { code, data } = e as DomainError;
    return { code, data };
  }
  throw new Error('expected a DomainError');
}

describe('planResolution refuses', () => {
  const cases: Array<{ name: string; req: ResolveRequest; code: number; data: Record<string, unknown> }> = [
    { name: 'an unknown service', req: req({ strategy: 'auto', service: 'nope' }), code: -32001, data: { kind: 'service', key: 'nope' } },
    {
      name: 'an unknown conflict',
      req: req({ strategy: 'auto', conflictId: 'c99' }),
      code: -32001,
      data: { kind: 'conflict', key: 'c99' },
    },
    { name: 'a conflict already closed', req: req({ strategy: 'auto', conflictId: 'c5' }), code: -32006, data: {} },
    { name: 'manual to the port it holds', req: req({ strategy: 'manual', service: 'lone', newPort: 3000 }), code: -32006, data: {} },
    {
      name: 'swap with an unknown service',
      req: req({ strategy: 'swap', service: 'web', withService: 'x' }),
      code: -32001,
      data: { kind: 'service', key: 'x' },
    },
    { name: 'swap with itself', req: req({ strategy: 'swap', service: 'db', withService: 'db' }), code: -32006, data: {} },
    { name: 'swap across protocols', req: req({ strategy: 'swap', service: 'lone', withService: 'dns' }), code: -32006, data: {} },
    {
      name: 'swap of two services on one port',
      req: req({ strategy: 'swap', service: 'web', withService: 'api' }),
      code: -32006,
      data: {},
    },
    { name: 'moving nobody off a reserved port', req: req({ strategy: 'auto', conflictId: 'c4' }), code: -32006, data: {} },
    { name: 'reserve for a duplicate', req: req({ strategy: 'reserve', conflictId: 'c1' }), code: -32006, data: {} },
    {
      name: 'a service not in the conflict',
      req: req({ strategy: 'auto', conflictId: 'c1', service: 'db' }),
      code: -32602,
      data: { field: 'service' },
    },
  ];
  it.each(cases)('$name', ({ req: r, code, data }) => {
    const e = refusal(() => planResolution(world(), r));
    expect(e.code).toBe(code);
    expect(e.data).toMatchObject(data);
  });
});

describe('planResolution chooses', () => {
  it('for a duplicate given by id, moves the most recently registered service', () => {
    const plan = planResolution(world(), req({ strategy: 'auto', conflictId: 'c1' }));
    expect(plan).toMatchObject({ conflict: { id: 'c1' }, service: { name: 'api' }, needsPort: 'auto' });
    expect(plan.target).toBeUndefined();
  });

  it('for a service, picks its most severe open conflict, then the oldest', () => {
    const older = conflict('c7', { type: 'drift', severity: 'warning', port: 9000, services: ['db'], detectedAt: iso(T0 - 5) });
    const s = world();
    s.conflicts.c7 = older;
    expect(planResolution(s, req({ strategy: 'auto', service: 'db' })).conflict?.id).toBe('c2');
    delete s.conflicts.c2;
    expect(planResolution(s, req({ strategy: 'auto', service: 'db' })).conflict?.id).toBe('c7');
  });

  it('auto for a drift targets the port the process really listens on', () => {
    expect(planResolution(world(), req({ strategy: 'auto', conflictId: 'c3' }))).toMatchObject({ service: { name: 'app' }, target: 7001 });
  });

  it('manual asks the shell to check newPort; swap targets the other port', () => {
    expect(planResolution(world(), req({ strategy: 'manual', service: 'db', newPort: 9100 }))).toMatchObject({
      needsPort: 'manual',
      target: 9100,
    });
    expect(planResolution(world(), req({ strategy: 'swap', service: 'db', withService: 'lone' }))).toMatchObject({
      needsPort: null,
      target: 3000,
      other: { name: 'lone' },
    });
  });
});

function run(state: State, r: ResolveRequest, to?: number) {
  const plan = planResolution(state, r);
  const out = applyResolution(state, PortIndex.build(state), plan, to ?? plan.target ?? -1, NOW, r.by);
  const after = structuredClone(state);
  for (const op of out.ops) applyOp(after, op);
  return { ...out, after };
}

describe('applyResolution moves', () => {
  it('auto: moves the service, records history, closes the conflict as resolved', () => {
    const { result, events, after } = run(world(), req({ strategy: 'auto', conflictId: 'c2' }), 9001);
    const resolution = { strategy: 'auto', from: 9000, to: 9001, by: 'alice' };
    const { origin: _origin, ...moved } = svc('db', 9001, { pid: 100, updatedAt: iso(NOW) });
    expect(result).toEqual({
      conflict: { ...foreign, resolvedAt: iso(NOW), resolution, outcome: 'resolved' },
      service: moved,
      from: 9000,
      to: 9001,
    });
    expect(events).toEqual([
      { type: 'port_assigned', data: { service: 'db', port: 9001, previous: 9000 } },
      { type: 'conflict_resolved', data: result.conflict },
    ]);
    expect(after.services.db!.port).toBe(9001);
    expect(after.history).toEqual([{ at: iso(NOW), service: 'db', port: 9001, previous: 9000, why: 'resolve:auto' }]);
  });

  it('manual: moves to newPort unless another service holds it or it is reserved for another', () => {
    expect(run(world(), req({ strategy: 'manual', service: 'db', newPort: 9100 })).after.services.db!.port).toBe(9100);
    expect(refusal(() => run(world(), req({ strategy: 'manual', service: 'db', newPort: 3000 })))).toEqual({
      code: -32002,
      data: expect.objectContaining({ port: 3000, reason: 'assigned', heldBy: { service: 'lone' } }),
    });
    expect(refusal(() => run(world(), req({ strategy: 'manual', service: 'db', newPort: 5432 }))).code).toBe(-32002);
  });

  it('swap: exchanges the two ports and announces both', () => {
    const { events, after, result } = run(world(), req({ strategy: 'swap', service: 'db', withService: 'lone' }));
    expect([after.services.db!.port, after.services.lone!.port]).toEqual([3000, 9000]);
    expect(events.map((e) => e.data)).toEqual([
      { service: 'db', port: 3000, previous: 9000 },
      { service: 'lone', port: 9000, previous: 3000 },
      expect.objectContaining({ id: 'c2', resolution: { strategy: 'swap', from: 9000, to: 3000, by: 'alice' } }),
    ]);
    expect(result).toMatchObject({ from: 9000, to: 3000 });
  });

  it('swap: refused when either port is reserved for a third service; reservations for the two are theirs', () => {
    const reservedFor = (port: number, forName?: string) => reservationRecord(port, T0, forName ? { for: forName } : {});
    const swap = req({ strategy: 'swap', service: 'db', withService: 'lone' });
    const withReservation = (r: Reservation) => {
      const s = world();
      s.reservations[`tcp/${r.port}`] = r;
      return s;
    };
    expect(refusal(() => run(withReservation(reservedFor(3000, 'pg')), swap))).toEqual({
      code: -32002,
      data: expect.objectContaining({ port: 3000, reason: 'reserved', heldBy: { reservedFor: 'pg' } }),
    });
    expect(refusal(() => run(withReservation(reservedFor(9000, 'pg')), swap))).toEqual({
      code: -32002,
      data: expect.objectContaining({ port: 9000, reason: 'reserved', heldBy: { reservedFor: 'pg' } }),
    });
    expect(run(withReservation(reservedFor(3000, 'lone')), swap).after.services.db!.port).toBe(3000);
    expect(run(withReservation(reservedFor(9000, 'db')), swap).after.services.lone!.port).toBe(9000);
  });

  it('with no open conflict, moves the service all the same', () => {
    const { result, events } = run(world(), req({ strategy: 'auto', service: 'lone' }), 3001);
    expect(result).toMatchObject({ conflict: null, from: 3000, to: 3001 });
    expect(events.map((e) => e.type)).toEqual(['port_assigned']);
  });

  it('refuses when the conflict was closed between plan and apply', () => {
    const s = world();
    const plan = planResolution(s, req({ strategy: 'auto', conflictId: 'c2' }));
    s.conflicts.c2 = { ...foreign, resolvedAt: iso(NOW) };
    expect(refusal(() => applyResolution(s, PortIndex.build(s), plan, 9001, NOW, 'alice')).code).toBe(-32006);
  });
});

describe('applyResolution reserve', () => {
  it('reserves the contested port for the service and acknowledges the conflict, which stays open', () => {
    const { result, ops, events, after } = run(world(), req({ strategy: 'reserve', service: 'db' }));
    expect(ops).toContainEqual({
      op: 'reservation',
      key: 'tcp/9000',
      value: { port: 9000, protocol: 'tcp', for: 'db', reason: 'conflict c2', createdAt: iso(NOW) },
    });
    expect(result.conflict).toEqual({
      ...foreign,
      acknowledged: true,
      resolution: { strategy: 'reserve', from: 9000, to: 9000, by: 'alice' },
    });
    expect(events).toEqual([]);
    expect(after.services.db!.port).toBe(9000);
  });

  it('then reconcile raises no reserved_in_use, and closes the conflict as resolved once the listener leaves', () => {
    const { after } = run(world(), req({ strategy: 'reserve', conflictId: 'c2' }));
    const foreignThere = [{ protocol: 'tcp', address: '0.0.0.0', port: 9000, family: 4, pid: 200 } as const];
    const still = reconcile({ state: after, listeners: [...foreignThere], now: NOW + 1, holdoff: {}, deadPids: [] });
    expect(still.opened.filter((c) => c.port === 9000)).toEqual([]);
    const gone = reconcile({ state: after, listeners: [], now: NOW + 2, holdoff: {}, deadPids: [] });
    expect(gone.closed).toContainEqual(expect.objectContaining({ id: 'c2', outcome: 'resolved', resolvedAt: iso(NOW + 2) }));
  });

  it('acknowledges a reserved_in_use that names no service, with no new reservation', () => {
    const { result, ops } = run(world(), req({ strategy: 'reserve', conflictId: 'c4' }));
    expect(result).toMatchObject({ service: null, from: 5432, to: 5432, conflict: { id: 'c4', acknowledged: true, resolvedAt: null } });
    expect(ops.map((o) => o.op)).toEqual(['conflict']);
  });

  it('without a conflict, reserves the service port for it', () => {
    const { result, ops } = run(world(), req({ strategy: 'reserve', service: 'lone' }));
    expect(result).toMatchObject({ conflict: null, from: 3000, to: 3000 });
    expect(ops).toEqual([
      { op: 'reservation', key: 'tcp/3000', value: expect.objectContaining({ for: 'lone', port: 3000 }) },
      {
        op: 'history',
        value: expect.objectContaining({ service: 'lone', port: 3000, previous: null, action: 'reserved', why: 'resolve:reserve' }),
      },
    ]);
  });
});
