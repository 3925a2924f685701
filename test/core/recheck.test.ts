import { describe, expect, it } from 'vitest';
import { PortIndex } from '../../daemon/core/portindex.ts';
import { reconcile } from '../../daemon/core/reconcile.ts';
import { checkPorts, expire, type PortRef } from '../../daemon/core/recheck.ts';
import { registerEffects, setPortEffects, unregisterEffects } from '../../daemon/core/service-effects.ts';
import { applyOp, emptyState, type Effects, type ServiceRecord, type State } from '../../daemon/core/state.ts';
import { iso, reservationRecord, serviceRecord } from './fixtures.ts';

const T0 = Date.parse('2025-01-01T00:00:00.000Z');

type Mutation = { register: string; port: number } | { setPort: string; port: number } | { unregister: string };

function apply(state: State, fx: Effects): void {
  for (const op of fx.ops) applyOp(state, op);
}

/** Registers the services, then lets a full reconcile settle their conflicts, as the daemon's state always is between requests. */
function settled(services: Array<[string, number]>): State {
  const state = emptyState();
  for (const [name, port] of services) apply(state, register(state, name, port, T0));
  apply(state, reconcile({ state, listeners: null, now: T0, holdoff: {} }));
  return state;
}

function register(state: State, name: string, port: number, now: number): Effects {
  return registerEffects(state, { name, port, protocol: 'tcp', host: '0.0.0.0', tags: [], origin: 'register' }, now);
}

/** The mutation's effects, and the ports it left or took (what the registry's transaction records). */
function mutate(state: State, m: Mutation, now: number): { fx: Effects; touched: PortRef[] } {
  const name = 'register' in m ? m.register : 'setPort' in m ? m.setPort : m.unregister;
  const before = state.services[name];
  const fx =
    'register' in m
      ? register(state, name, m.port, now)
      : 'setPort' in m
        ? setPortEffects(state, name, m.port, now, 'setPort')
        : unregisterEffects(state, name, now, 'unregister');
  const touched: PortRef[] = [];
  if (before) touched.push({ protocol: before.protocol, port: before.port });
  if ('port' in m) touched.push({ protocol: 'tcp', port: m.port });
  return { fx, touched };
}

const cases: Array<{
  name: string;
  before: Array<[string, number]>;
  mutation: Mutation;
  opened: string[][];
  closed: string[][];
  updated?: string[][];
}> = [
  { name: 'register onto a free port: nothing', before: [['a', 80]], mutation: { register: 'b', port: 81 }, opened: [], closed: [] },
  {
    name: 'register onto a held port opens a duplicate',
    before: [
      ['a', 80],
      ['z', 90],
    ],
    mutation: { register: 'b', port: 80 },
    opened: [['a', 'b']],
    closed: [],
  },
  {
    name: 'a third service on a duplicate updates it in place',
    before: [
      ['a', 80],
      ['b', 80],
    ],
    mutation: { register: 'c', port: 80 },
    opened: [],
    closed: [],
    updated: [['a', 'b', 'c']],
  },
  {
    name: 're-register away from a duplicate closes it',
    before: [
      ['a', 80],
      ['b', 80],
    ],
    mutation: { register: 'b', port: 81 },
    opened: [],
    closed: [['a', 'b']],
  },
  {
    name: 're-register from one duplicate into another: one closes, one grows',
    before: [
      ['a', 80],
      ['b', 80],
      ['c', 81],
      ['d', 81],
    ],
    mutation: { register: 'b', port: 81 },
    opened: [],
    closed: [['a', 'b']],
    updated: [['b', 'c', 'd']],
  },
  {
    name: 'setPort onto a held port opens a duplicate',
    before: [
      ['a', 80],
      ['b', 81],
    ],
    mutation: { setPort: 'b', port: 80 },
    opened: [['a', 'b']],
    closed: [],
  },
  {
    name: 'setPort away from a duplicate closes it',
    before: [
      ['a', 80],
      ['b', 80],
    ],
    mutation: { setPort: 'a', port: 82 },
    opened: [],
    closed: [['a', 'b']],
  },
  {
    name: 'unregister one of two closes the duplicate',
    before: [
      ['a', 80],
      ['b', 80],
      ['x', 90],
      ['y', 90],
    ],
    mutation: { unregister: 'a' },
    opened: [],
    closed: [['a', 'b']],
  },
  {
    name: 'unregister one of three shrinks the duplicate',
    before: [
      ['a', 80],
      ['b', 80],
      ['c', 80],
    ],
    mutation: { unregister: 'b' },
    opened: [],
    closed: [],
    updated: [['a', 'c']],
  },
  {
    name: 'unregister a lone service: nothing',
    before: [
      ['a', 80],
      ['b', 81],
    ],
    mutation: { unregister: 'a' },
    opened: [],
    closed: [],
  },
];

describe('checkPorts: the check after a mutation agrees with the full reconcile', () => {
  it.each(cases)('$name', ({ before, mutation, opened, closed, updated = [] }) => {
    const state = settled(before);
    const { fx, touched } = mutate(state, mutation, T0 + 1000);
    apply(state, fx);
    const snapshot = structuredClone(state);

    const full = reconcile({ state, listeners: null, now: T0 + 2000, holdoff: {} });
    const quick = checkPorts({ state, lookup: PortIndex.build(state), ports: touched, now: T0 + 2000 });

    expect(quick.ops).toEqual(full.ops);
    expect(quick.events).toEqual(full.events);
    expect(quick.opened.map((c) => c.services)).toEqual(opened);
    expect(quick.closed.map((c) => c.services)).toEqual(closed);
    const changed = quick.ops.flatMap((op) =>
      op.op === 'conflict' && op.value?.resolvedAt === null && !quick.opened.some((c) => c.id === op.id) ? [op.value.services] : [],
    );
    expect(changed).toEqual(updated);
    expect(state).toEqual(snapshot);
  });

  it('judges only the ports it is given: a stale duplicate elsewhere waits for the full reconcile', () => {
    const state = settled([
      ['a', 80],
      ['b', 81],
    ]);
    state.services.b = { ...state.services.b!, port: 80 } as ServiceRecord; // as if changed behind the index's back
    const quick = checkPorts({ state, lookup: PortIndex.build(state), ports: [{ protocol: 'tcp', port: 81 }], now: T0 });
    expect(quick.ops).toEqual([]);
  });

  it('takes each port once, however often it is named', () => {
    const state = settled([['a', 80]]);
    apply(state, register(state, 'b', 80, T0));
    const port = { protocol: 'tcp' as const, port: 80 };
    const quick = checkPorts({ state, lookup: PortIndex.build(state), ports: [port, port], now: T0 });
    expect(quick.opened).toHaveLength(1);
  });

  it('opens several in the order the full reconcile does (by first name), taking ids in turn', () => {
    const state = settled([
      ['m', 80],
      ['c', 81],
    ]);
    apply(state, register(state, 'n', 80, T0));
    apply(state, register(state, 'd', 81, T0));
    const ports = [
      { protocol: 'tcp' as const, port: 80 },
      { protocol: 'tcp' as const, port: 81 },
    ];
    const full = reconcile({ state, listeners: null, now: T0, holdoff: {} });
    const quick = checkPorts({ state, lookup: PortIndex.build(state), ports, now: T0 });
    expect(quick.opened.map((c) => [c.id, c.services])).toEqual([
      ['c1', ['c', 'd']],
      ['c2', ['m', 'n']],
    ]);
    expect(quick.ops).toEqual(full.ops);
  });
});

describe('expire: what the sweep ends between scans', () => {
  it('ends the same leases and reservations as the full reconcile, nothing else', () => {
    const state = emptyState();
    state.services.tmp = serviceRecord('tmp', 50000, T0, { origin: 'allocate', expiresAt: iso(T0) });
    state.services.keep = { ...state.services.tmp, name: 'keep', port: 50001, expiresAt: iso(T0 + 1) };
    state.reservations['tcp/7000'] = reservationRecord(7000, T0, { expiresAt: iso(T0) });
    // The sweep names only the leased services, as the port index keeps them.
    const fx = expire(state, T0, PortIndex.build(state).leased());
    expect(fx).toEqual(expire(state, T0));
    const full = reconcile({ state, listeners: null, now: T0, holdoff: {} });
    expect(fx.ops).toEqual(full.ops);
    expect(fx.events).toEqual(full.events);
    // A lease's end and a reservation's end are each a history line (port.history shows both).
    expect(fx.ops.map((op) => op.op)).toEqual(['service', 'history', 'reservation', 'history']);
  });
});
