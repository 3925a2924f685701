import { describe, expect, it } from 'vitest';
import type { Conflict } from '../../client/protocol.ts';
import type { Observation } from '../../daemon/core/observation.ts';
import { reconcile, type ReconcileInput, type ReconcileResult } from '../../daemon/core/reconcile.ts';
import { applyOp, type Reservation, type ServiceRecord, type State } from '../../daemon/core/state.ts';
import { conflictRecord, iso, reservationRecord, serviceRecord, stateOf, type ConflictFields } from './fixtures.ts';

const T0 = Date.parse('2025-01-01T00:00:00.000Z');

const svc = (name: string, port: number, extra: Partial<ServiceRecord> = {}) => serviceRecord(name, port, T0, extra);
const reservation = (port: number, extra: Partial<Reservation> = {}) => reservationRecord(port, T0, extra);
const openConflict = (id: string, extra: ConflictFields) => conflictRecord(id, T0, extra);

function obs(port: number, who: { pid?: number; process?: string } = {}, extra: Partial<Observation> = {}): Observation {
  return { protocol: 'tcp', address: '0.0.0.0', port, family: 4, ...who, ...extra };
}

function applied(state: State, r: ReconcileResult): State {
  const next = structuredClone(state);
  for (const op of r.ops) applyOp(next, op);
  return next;
}

/** Runs rounds one after another, carrying state and hold-off counters as the registry does. */
function rounds(state: State, steps: Array<Omit<ReconcileInput, 'state' | 'holdoff'>>): ReconcileResult[] {
  const out: ReconcileResult[] = [];
  let holdoff: Record<string, number> = {};
  for (const step of steps) {
    const r = reconcile({ ...step, state, holdoff });
    out.push(r);
    state = applied(state, r);
    holdoff = r.holdoff;
  }
  return out;
}

const types = (r: ReconcileResult) => r.events.map((e) => e.type);

describe('reconcile: conflicts opened', () => {
  const cases: Array<{ name: string; state: State; listeners: Observation[] | null; opened: Array<Partial<Conflict>> }> = [
    {
      name: 'two services on one port: one duplicate_assignment, services sorted',
      state: stateOf({ services: [svc('web', 8080), svc('api', 8080), svc('db', 5432)] }),
      listeners: null,
      opened: [{ id: 'c1', type: 'duplicate_assignment', severity: 'critical', port: 8080, protocol: 'tcp', services: ['api', 'web'] }],
    },
    {
      name: 'same port number on tcp and udp is no duplicate',
      state: stateOf({ services: [svc('web', 8080), svc('dns', 8080, { protocol: 'udp' })] }),
      listeners: [],
      opened: [],
    },
    {
      name: 'a process other than the registered pid listens: foreign_listener',
      state: stateOf({ services: [svc('web', 8080, { pid: 100 })] }),
      listeners: [obs(8080, { pid: 200, process: 'python3' })],
      opened: [
        {
          type: 'foreign_listener',
          severity: 'critical',
          port: 8080,
          services: ['web'],
          listener: { pid: 200, process: 'python3', address: '0.0.0.0:8080' },
        },
      ],
    },
    {
      name: 'the registered pid listening on any address is its owner',
      state: stateOf({ services: [svc('web', 8080, { pid: 100 })] }),
      listeners: [obs(8080, { pid: 100 }), obs(8080, { pid: 100 }, { address: '::', family: 6 })],
      opened: [],
    },
    {
      name: 'a service known by process name only is matched by name (comm truncated to 15)',
      state: stateOf({ services: [svc('web', 8080, { process: 'my-long-server-name' })] }),
      listeners: [obs(8080, { pid: 7, process: 'my-long-server-' })],
      opened: [],
    },
    {
      name: 'a differently named process on a name-owned port is foreign, IPv6 address bracketed',
      state: stateOf({ services: [svc('web', 8080, { process: 'nginx' })] }),
      listeners: [obs(8080, { pid: 7, process: 'node' }, { address: '::', family: 6 })],
      opened: [{ type: 'foreign_listener', listener: { pid: 7, process: 'node', address: '[::]:8080' } }],
    },
    {
      name: 'a listener with no pid and no name is not evidence',
      state: stateOf({ services: [svc('web', 8080, { pid: 100 }), svc('free', 9000)] }),
      listeners: [obs(8080), obs(9000)],
      opened: [],
    },
    {
      name: 'a reserved port listened on: reserved_in_use (warning)',
      state: stateOf({ reservations: [reservation(5432, { reason: 'postgres' })] }),
      listeners: [obs(5432, { pid: 42, process: 'postgres' })],
      opened: [
        {
          type: 'reserved_in_use',
          severity: 'warning',
          port: 5432,
          services: [],
          listener: { pid: 42, process: 'postgres', address: '0.0.0.0:5432' },
        },
      ],
    },
    {
      name: 'the owner of the service a port is reserved for may listen on it',
      state: stateOf({ services: [svc('db', 5433, { pid: 42 })], reservations: [reservation(5432, { for: 'db' })] }),
      listeners: [obs(5432, { pid: 42 }), obs(5433, { pid: 42 })],
      opened: [],
    },
    {
      name: 'another process on a port reserved for a service names that service',
      state: stateOf({ services: [svc('db', 5433, { pid: 42 })], reservations: [reservation(5432, { for: 'db' })] }),
      listeners: [obs(5432, { pid: 9 }), obs(5433, { pid: 42 })],
      opened: [{ type: 'reserved_in_use', port: 5432, services: ['db'] }],
    },
    {
      name: 'the owner pid listens elsewhere and not on its port: drift at the registered port',
      state: stateOf({ services: [svc('web', 8080, { pid: 100 })] }),
      listeners: [obs(8081, { pid: 100 }, { address: '127.0.0.1' })],
      opened: [{ type: 'drift', severity: 'warning', port: 8080, services: ['web'], listener: { pid: 100, address: '127.0.0.1:8081' } }],
    },
    {
      name: 'no drift to a port another service of the same process holds',
      state: stateOf({ services: [svc('web', 8080, { pid: 100 }), svc('admin', 8081, { pid: 100 })] }),
      listeners: [obs(8081, { pid: 100 })],
      opened: [],
    },
  ];
  it.each(cases)('$name', ({ state, listeners, opened }) => {
    const r = reconcile({ state, listeners, now: T0 + 1000, holdoff: {}, deadPids: [] });
    expect(r.opened).toEqual(
      opened.map((o) => expect.objectContaining({ ...o, detectedAt: iso(T0 + 1000), resolvedAt: null, resolution: null })),
    );
    expect(r.events).toEqual(r.opened.map((c) => ({ type: 'conflict_detected', data: c })));
    expect(r.closed).toEqual([]);
  });

  it('consumes conflict ids from nextConflictId and records the next one', () => {
    const state = stateOf({ services: [svc('a', 1), svc('b', 1), svc('c', 2), svc('d', 2)], nextConflictId: 7 });
    const r = reconcile({ state, listeners: null, now: T0, holdoff: {} });
    expect(r.opened.map((c) => c.id)).toEqual(['c7', 'c8']);
    expect(r.ops.at(-1)).toEqual({ op: 'nextConflictId', value: 9 });
  });
});

describe('reconcile: conflict lifecycle', () => {
  it('opens a conflict once, not once per round', () => {
    const state = stateOf({ services: [svc('web', 8080, { pid: 100 }), svc('api', 8080, { pid: 300 })] });
    const seen = [obs(8080, { pid: 200 })];
    const [first, second] = rounds(state, [
      { listeners: seen, now: T0 },
      { listeners: seen, now: T0 + 10_000 },
    ]);
    expect(first!.opened.map((c) => c.type).sort()).toEqual(['duplicate_assignment', 'foreign_listener']);
    expect(second!.ops).toEqual([]);
    expect(second!.events).toEqual([]);
  });

  it('updates the services of a duplicate in place while two or more remain, and closes it as vanished at one', () => {
    const [, shrink, gone] = rounds(stateOf({ services: [svc('a', 80), svc('b', 80), svc('c', 80, { expiresAt: iso(T0 + 5) })] }), [
      { listeners: null, now: T0 },
      { listeners: null, now: T0 + 10 },
      { listeners: null, now: T0 + 20 },
    ]);
    expect(shrink!.ops).toContainEqual({
      op: 'conflict',
      id: 'c1',
      value: expect.objectContaining({ services: ['a', 'b'], resolvedAt: null }),
    });
    expect(types(shrink!)).toEqual(['port_released', 'service_unregistered']);
    expect(gone!.ops).toEqual([]);

    const single = stateOf({
      services: [svc('a', 80)],
      conflicts: [openConflict('c1', { type: 'duplicate_assignment', port: 80, services: ['a', 'b'] })],
    });
    const r = reconcile({ state: single, listeners: null, now: T0 + 30, holdoff: {} });
    expect(r.closed).toEqual([expect.objectContaining({ id: 'c1', resolvedAt: iso(T0 + 30), outcome: 'vanished', resolution: null })]);
    expect(r.events).toEqual([{ type: 'conflict_resolved', data: r.closed[0] }]);
  });

  const foreignOpen = openConflict('c1', {
    type: 'foreign_listener',
    port: 8080,
    services: ['web'],
    listener: { pid: 200, address: '0.0.0.0:8080' },
  });

  it('closes a foreign_listener as vanished when the listener goes away', () => {
    const state = stateOf({ services: [svc('web', 8080, { pid: 100 })], conflicts: [foreignOpen] });
    const r = reconcile({ state, listeners: [obs(8080, { pid: 100 })], now: T0 + 50, holdoff: {}, deadPids: [] });
    expect(r.closed).toEqual([{ ...foreignOpen, resolvedAt: iso(T0 + 50), outcome: 'vanished' }]);
    expect(r.ops).toEqual([{ op: 'conflict', id: 'c1', value: r.closed[0] }]);
  });

  it('leaves listener-based conflicts alone when there is no new observation', () => {
    const state = stateOf({ services: [svc('web', 8080, { pid: 100 })], conflicts: [foreignOpen] });
    const r = reconcile({ state, listeners: null, now: T0 + 50, holdoff: {} });
    expect(r.ops).toEqual([]);
    expect(r.events).toEqual([]);
  });

  it('after a reserve acknowledgement: no reserved_in_use for the same listener, and closes as resolved when it leaves', () => {
    const acked: Conflict = { ...foreignOpen, acknowledged: true, resolution: { strategy: 'reserve', from: 8080, to: 8080, by: 'ops' } };
    const state = stateOf({
      services: [svc('web', 8080, { pid: 100 })],
      reservations: [reservation(8080, { for: 'web', reason: 'conflict c1' })],
      conflicts: [acked],
    });
    const still = reconcile({ state, listeners: [obs(8080, { pid: 200 })], now: T0 + 50, holdoff: {}, deadPids: [] });
    expect(still.ops).toEqual([]);
    expect(still.events).toEqual([]);

    const left = reconcile({ state, listeners: [], now: T0 + 60, holdoff: {}, deadPids: [] });
    expect(left.closed).toEqual([{ ...acked, resolvedAt: iso(T0 + 60), outcome: 'resolved' }]);
    expect(types(left)).toEqual(['conflict_resolved']);
  });

  it('does not mutate its input and gives the same output for the same input', () => {
    const state = stateOf({ services: [svc('web', 8080), svc('api', 8080, { pid: 3, expiresAt: iso(T0) })] });
    const before = structuredClone(state);
    const input: ReconcileInput = { state, listeners: [obs(8080, { pid: 9 })], now: T0, holdoff: { 'x:1': 2 }, deadPids: [3] };
    expect(reconcile(input)).toEqual(reconcile(input));
    expect(state).toEqual(before);
  });
});

describe('reconcile: owners', () => {
  it('a service with no pid or process adopts the first listener with an identity; a second process there is foreign', () => {
    const state = stateOf({ services: [svc('web', 8080)] });
    const r = reconcile({
      state,
      listeners: [obs(8080), obs(8080, { pid: 300, process: 'node' }), obs(8080, { pid: 301 })],
      now: T0 + 5,
      holdoff: {},
      deadPids: [],
    });
    expect(r.ops[0]).toEqual({
      op: 'service',
      name: 'web',
      value: { ...svc('web', 8080), pid: 300, process: 'node', adopted: true, updatedAt: iso(T0 + 5) },
    });
    expect(r.opened).toEqual([expect.objectContaining({ type: 'foreign_listener', listener: { pid: 301, address: '0.0.0.0:8080' } })]);
  });

  it('adoption is not a conflict and happens only once', () => {
    const [first, second] = rounds(stateOf({ services: [svc('web', 8080)] }), [
      { listeners: [obs(8080, { pid: 300 })], now: T0, deadPids: [] },
      { listeners: [obs(8080, { pid: 300 })], now: T0 + 1, deadPids: [] },
    ]);
    expect(first!.events).toEqual([]);
    expect(first!.ops).toHaveLength(1);
    expect(second!.ops).toEqual([]);
  });
});

describe('reconcile: one process serving several registered ports', () => {
  const both = [obs(8080, { pid: 300, process: 'node' }), obs(8081, { pid: 300, process: 'node' })];
  const cases: Array<{ name: string; services: ServiceRecord[] }> = [
    { name: 'both unowned: each adopts it', services: [svc('web', 8080), svc('web-admin', 8081)] },
    {
      name: 'one already adopted it: the other adopts it too',
      services: [svc('web', 8080, { pid: 300, process: 'node', adopted: true }), svc('web-admin', 8081)],
    },
    { name: 'one registered with its pid: the other adopts it too', services: [svc('web', 8080, { pid: 300 }), svc('web-admin', 8081)] },
  ];
  it.each(cases)('$name, and no conflict', ({ services }) => {
    const [first, second] = rounds(stateOf({ services }), [
      { listeners: both, now: T0 + 5, deadPids: [] },
      { listeners: both, now: T0 + 6, deadPids: [] },
    ]);
    expect(first!.opened).toEqual([]);
    expect(first!.ops).toContainEqual({
      op: 'service',
      name: 'web-admin',
      value: { ...svc('web-admin', 8081), pid: 300, process: 'node', adopted: true, updatedAt: iso(T0 + 5) },
    });
    expect(second!.ops).toEqual([]);
  });

  it('a second process on a port whose service adopted the first is still foreign', () => {
    const state = stateOf({ services: [svc('web', 8080, { pid: 300, process: 'node', adopted: true }), svc('web-admin', 8081)] });
    const r = reconcile({ state, listeners: [...both, obs(8080, { pid: 301, process: 'python3' })], now: T0, holdoff: {}, deadPids: [] });
    expect(r.opened).toEqual([
      expect.objectContaining({
        type: 'foreign_listener',
        port: 8080,
        listener: { pid: 301, process: 'python3', address: '0.0.0.0:8080' },
      }),
    ]);
  });
});

describe('reconcile: adopted owners', () => {
  it('when an adopted owner dies, its successor on the port is adopted: no conflict, no reclaim', () => {
    const state = stateOf({ services: [svc('web', 8080, { origin: 'allocate', pid: 300, process: 'python3', adopted: true })] });
    const r = reconcile({ state, listeners: [obs(8080, { pid: 301, process: 'python3' })], now: T0 + 5, holdoff: {}, deadPids: [300] });
    expect(r.ops).toEqual([
      {
        op: 'service',
        name: 'web',
        value: { ...svc('web', 8080, { origin: 'allocate' }), pid: 301, process: 'python3', adopted: true, updatedAt: iso(T0 + 5) },
      },
    ]);
    expect(r.events).toEqual([]);
  });

  it('a dead adopted owner with no successor leaves the service unowned, never reclaimed', () => {
    const state = stateOf({ services: [svc('web', 8080, { origin: 'allocate', pid: 300, adopted: true })] });
    const rs = rounds(
      state,
      [1, 2, 3, 4].map((i) => ({ listeners: [], deadPids: [300], now: T0 + i })),
    );
    expect(rs[0]!.ops).toEqual([
      { op: 'service', name: 'web', value: { ...svc('web', 8080, { origin: 'allocate' }), updatedAt: iso(T0 + 1) } },
    ]);
    expect(rs.flatMap((r) => r.events)).toEqual([]);
  });
});

describe('reconcile: leases and hold-off', () => {
  it('releases a service whose lease has expired, with history and events', () => {
    const state = stateOf({
      services: [svc('tmp', 50000, { origin: 'allocate', expiresAt: iso(T0) }), svc('keep', 50001, { expiresAt: iso(T0 + 1) })],
    });
    const r = reconcile({ state, listeners: null, now: T0, holdoff: {} });
    expect(r.ops).toEqual([
      { op: 'service', name: 'tmp', value: null },
      { op: 'history', value: { at: iso(T0), service: 'tmp', port: null, previous: 50000, why: 'lease-expired' } },
    ]);
    expect(r.events).toEqual([
      { type: 'port_released', data: { port: 50000, service: 'tmp' } },
      { type: 'service_unregistered', data: { name: 'tmp', releasedPorts: [50000] } },
    ]);
  });

  it('drops a reservation whose ttl has run out', () => {
    const state = stateOf({ reservations: [reservation(7000, { expiresAt: iso(T0) })] });
    const r = reconcile({ state, listeners: [obs(7000, { pid: 1 })], now: T0, holdoff: {} });
    expect(r.ops).toEqual([
      { op: 'reservation', key: 'tcp/7000', value: null },
      { op: 'history', value: { at: iso(T0), service: '', port: null, previous: 7000, why: 'expired', action: 'unreserved' } },
    ]);
    expect(r.opened).toEqual([]);
  });

  const leased = () => stateOf({ services: [svc('job', 40000, { origin: 'allocate', pid: 77 })] });
  const dead = { listeners: [] as Observation[], deadPids: [77] };

  it('reclaims an allocation only after three consecutive rounds with its owner dead', () => {
    const rs = rounds(
      leased(),
      [1, 2, 3].map((i) => ({ ...dead, now: T0 + i })),
    );
    expect(rs.map((r) => r.ops.length)).toEqual([0, 0, 2]);
    expect(rs.map((r) => r.holdoff)).toEqual([{ 'job:77': 1 }, { 'job:77': 2 }, {}]);
    expect(types(rs[2]!)).toEqual(['port_released', 'service_unregistered']);
    expect(rs[2]!.ops[1]).toEqual({ op: 'history', value: expect.objectContaining({ why: 'reclaimed', previous: 40000 }) });
  });

  it('resets the count when the pid is seen alive or listening', () => {
    const rs = rounds(leased(), [
      { ...dead, now: T0 + 1 },
      { ...dead, now: T0 + 2 },
      { listeners: [obs(40000, { pid: 77 })], deadPids: [77], now: T0 + 3 },
      { ...dead, now: T0 + 4 },
      { listeners: [], deadPids: [], now: T0 + 5 },
      { ...dead, now: T0 + 6 },
    ]);
    expect(rs.map((r) => r.holdoff['job:77'] ?? 0)).toEqual([1, 2, 0, 1, 0, 1]);
    expect(rs.flatMap((r) => r.ops)).toEqual([]);
  });

  it('keeps counters unchanged in a round that did not check pids', () => {
    const r = reconcile({ state: leased(), listeners: null, now: T0, holdoff: { 'job:77': 2, 'gone:1': 1 } });
    expect(r.holdoff).toEqual({ 'job:77': 2 });
    expect(r.ops).toEqual([]);
  });

  it('marks a registered service stopped after the hold-off, never removes it, and says so once', () => {
    const state = stateOf({ services: [svc('web', 8080, { pid: 55, status: 'healthy' })] });
    const rs = rounds(
      state,
      [1, 2, 3, 4].map((i) => ({ listeners: [], deadPids: [55], now: T0 + i })),
    );
    expect(rs.map((r) => r.ops.length)).toEqual([0, 0, 2, 0]);
    expect(rs[2]!.ops[0]).toEqual({
      op: 'service',
      name: 'web',
      value: { ...svc('web', 8080, { pid: 55 }), status: 'stopped', updatedAt: iso(T0 + 3) },
    });
    expect(rs[2]!.ops[1]).toEqual({ op: 'status', value: { at: iso(T0 + 3), service: 'web', status: 'stopped' } });
    expect(rs.flatMap((r) => r.events)).toEqual([
      { type: 'service_health', data: { service: 'web', status: 'stopped', previous: 'healthy' } },
    ]);
  });
});
