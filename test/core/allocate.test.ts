import { describe, expect, it } from 'vitest';
import type { Range } from '../../client/protocol.ts';
import {
  BROWSER_UNSAFE_PORTS,
  choosePort,
  stableSlot,
  suggestPorts,
  usableSpans,
  type AllocationPolicy,
  type PortQuery,
} from '../../daemon/core/allocate.ts';
import { PortIndex } from '../../daemon/core/portindex.ts';
import { emptyState, type ServiceRecord, type State } from '../../daemon/core/state.ts';
import { reservationRecord, serviceRecord, stateOf } from './fixtures.ts';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const range = (start: number, end: number, name = `${start}-${end}`): Range => ({ name, start, end, purpose: 'test' });
const noPolicy: AllocationPolicy = { ephemeral: null, unsafe: new Set() };
const linuxPolicy: AllocationPolicy = { ephemeral: { start: 32768, end: 60999 }, unsafe: BROWSER_UNSAFE_PORTS };

const service = (name: string, port: number, extra: Partial<ServiceRecord> = {}) => serviceRecord(name, port, T0, extra);

function stateWith(services: ServiceRecord[], reserved: number[] = []): State {
  return stateOf({ services, reservations: reserved.map((port) => reservationRecord(port, T0, { for: 'db' })) });
}

function query(r: Range, extra: Partial<PortQuery> = {}): PortQuery {
  return { protocol: 'tcp', range: r, explicitRange: true, ...extra };
}

describe('choosePort', () => {
  const cases: Array<{
    name: string;
    held?: number[];
    reserved?: number[];
    listening?: number[];
    q: PortQuery;
    policy?: AllocationPolicy;
    want: number | null;
  }> = [
    { name: 'lowest free port of an empty range', q: query(range(5000, 5009)), want: 5000 },
    {
      name: 'skips held, reserved and listening ports',
      held: [5000],
      reserved: [5001],
      listening: [5002],
      q: query(range(5000, 5009)),
      want: 5003,
    },
    { name: 'preferred port when free', q: query(range(5000, 5009), { preferred: 5007 }), want: 5007 },
    { name: 'preferred port taken: falls back to lowest free', held: [5007], q: query(range(5000, 5009), { preferred: 5007 }), want: 5000 },
    { name: 'preferred port outside an explicit range is ignored', q: query(range(5000, 5009), { preferred: 8080 }), want: 5000 },
    {
      name: 'preferred port honoured in the default range',
      q: query(range(1024, 49151), { explicitRange: false, preferred: 8080 }),
      want: 8080,
    },
    { name: 'ports a probe refused are skipped', q: query(range(5000, 5009), { exclude: new Set([5000, 5001]) }), want: 5002 },
    { name: 'exhausted range gives null', held: [5000, 5001], q: query(range(5000, 5001)), want: null },
    { name: 'port 0 is never chosen', q: query(range(0, 3)), want: 1 },
    {
      name: 'default range skips the ephemeral span and unsafe ports',
      held: [],
      q: query(range(6000, 40000), { explicitRange: false }),
      policy: linuxPolicy,
      want: 6001,
    },
    { name: 'explicit range may use ephemeral and unsafe ports', q: query(range(6000, 6001)), policy: linuxPolicy, want: 6000 },
  ];
  it.each(cases)('$name', ({ held = [], reserved = [], listening = [], q, policy = noPolicy, want }) => {
    const state = stateWith(
      held.map((p, i) => service(`s${i}`, p)),
      reserved,
    );
    const index = PortIndex.build(state);
    index.setListeners(listening.map((port) => ({ protocol: 'tcp', address: '0.0.0.0', port, family: 4 })));
    expect(choosePort(index, policy, q)).toBe(want);
  });

  it('gives a new service the slot its name hashes to, the same every time', () => {
    const index = PortIndex.build(emptyState());
    const q = query(range(20000, 29999), { name: 'api-gateway' });
    const first = choosePort(index, noPolicy, q);
    expect(first).not.toBe(20000);
    expect(choosePort(PortIndex.build(emptyState()), noPolicy, q)).toBe(first);
    expect(choosePort(index, noPolicy, query(range(20000, 29999), { name: 'billing' }))).not.toBe(first);
  });

  it('falls back to the lowest free port when the name slot is taken', () => {
    const slot = stableSlot('api-gateway', [{ start: 20000, end: 29999 }])!;
    const index = PortIndex.build(stateWith([service('other', slot)]));
    expect(choosePort(index, noPolicy, query(range(20000, 29999), { name: 'api-gateway' }))).toBe(20000);
  });

  it('tcp and udp are separate port spaces', () => {
    const index = PortIndex.build(stateWith([service('dns', 5000, { protocol: 'udp' })]));
    expect(choosePort(index, noPolicy, query(range(5000, 5001)))).toBe(5000);
    expect(choosePort(index, noPolicy, query(range(5000, 5001), { protocol: 'udp' }))).toBe(5001);
  });
});

describe('usableSpans', () => {
  it('cuts the ephemeral span out of the default range', () => {
    expect(usableSpans(query(range(1024, 49151), { explicitRange: false }), linuxPolicy)).toEqual([{ start: 1024, end: 32767 }]);
    expect(usableSpans(query(range(49152, 65535), { explicitRange: false }), linuxPolicy)).toEqual([{ start: 61000, end: 65535 }]);
  });
  it('keeps a range that lies wholly inside the ephemeral span', () => {
    expect(usableSpans(query(range(40000, 40010), { explicitRange: false }), linuxPolicy)).toEqual([{ start: 40000, end: 40010 }]);
  });
});

describe('suggestPorts', () => {
  it('lists the lowest free ports without allocating', () => {
    const index = PortIndex.build(stateWith([service('a', 7001)]));
    expect(suggestPorts(index, noPolicy, query(range(7000, 7010)), 3)).toEqual([7000, 7002, 7003]);
  });
  it('lists ports nearest to `near` first', () => {
    const index = PortIndex.build(stateWith([service('a', 7005)]));
    expect(suggestPorts(index, noPolicy, query(range(7000, 7010)), 4, 7005)).toEqual([7006, 7004, 7007, 7003]);
  });
  it('stops at the range edges', () => {
    const index = PortIndex.build(emptyState());
    expect(suggestPorts(index, noPolicy, query(range(7000, 7002)), 10, 7000)).toEqual([7000, 7001, 7002]);
  });
});

describe('PortIndex', () => {
  it('follows ops: a moved service frees its old port, a removed reservation frees its port', () => {
    const state = stateWith([service('web', 8080)], [5432]);
    const index = PortIndex.build(state);
    index.beforeApply(state, { op: 'service', name: 'web', value: service('web', 8081) });
    index.beforeApply(state, { op: 'reservation', key: 'tcp/5432', value: null });
    expect(index.isTaken('tcp', 8080)).toBe(false);
    expect(index.holdersOf('tcp', 8081)).toEqual(['web']);
    expect(index.isTaken('tcp', 5432)).toBe(false);
  });
  it('counts two services on one port until both are gone', () => {
    const state = stateWith([service('a', 9000), service('b', 9000)]);
    const index = PortIndex.build(state);
    index.beforeApply(state, { op: 'service', name: 'a', value: null });
    expect(index.isTaken('tcp', 9000)).toBe(true);
    delete state.services.a;
    index.beforeApply(state, { op: 'service', name: 'b', value: null });
    expect(index.isTaken('tcp', 9000)).toBe(false);
  });
  it('lists a shared port with each holder once, and drops it when one holder is left', () => {
    const state = stateWith([service('a', 9000), service('b', 9000)]);
    const index = PortIndex.build(state);
    expect(index.sharedPorts()).toEqual([{ protocol: 'tcp', port: 9000, names: ['a', 'b'] }]);
    index.beforeApply(state, { op: 'service', name: 'a', value: null });
    delete state.services.a;
    expect(index.sharedPorts()).toEqual([]);
    expect(index.holdersOf('tcp', 9000)).toEqual(['b']);
    index.beforeApply(state, { op: 'service', name: 'c', value: service('c', 9000) });
    expect(index.holdersOf('tcp', 9000)).toEqual(['b', 'c']);
  });
});
