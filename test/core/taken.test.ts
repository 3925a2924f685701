import { describe, expect, it } from 'vitest';
import type { HeldBy } from '../../client/protocol.ts';
import type { Observation } from '../../daemon/core/observation.ts';
import { PortIndex } from '../../daemon/core/portindex.ts';
import type { Reservation, ServiceRecord, State } from '../../daemon/core/state.ts';
import { reservationRecord, serviceRecord, stateOf } from './fixtures.ts';
import { takenBy, type Asker } from '../../daemon/core/taken.ts';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const PORT = 8080;

const service = (name: string, extra: Partial<ServiceRecord> = {}) => serviceRecord(name, PORT, T0, extra);
const reservation = (forName?: string) => reservationRecord(PORT, T0, forName === undefined ? {} : { for: forName });
const listener: Observation = { protocol: 'tcp', address: '127.0.0.1', port: PORT, family: 4, pid: 7, process: 'nginx' };

function world(w: { services?: ServiceRecord[]; reservation?: Reservation; listening?: boolean }): { state: State; index: PortIndex } {
  const state = stateOf({ services: w.services, reservations: w.reservation ? [w.reservation] : [] });
  const index = PortIndex.build(state);
  if (w.listening) index.setListeners([listener]);
  return { state, index };
}

// Each row: what holds the port, who asks, and the answer: null (free to the asker) or [reason, heldBy].
const cases: Array<{ name: string; world: Parameters<typeof world>[0]; asker?: Asker; want: null | [string, HeldBy] }> = [
  { name: 'nothing holds it', world: {}, want: null },
  {
    name: 'a service holds it: its name, pid and process',
    world: { services: [service('web', { pid: 42, process: 'node' })] },
    want: ['assigned', { service: 'web', pid: 42, process: 'node' }],
  },
  {
    name: 'several services: the first by name (code-unit order)',
    world: { services: [service('b'), service('a_b'), service('a-c')] },
    want: ['assigned', { service: 'a-c' }],
  },
  { name: "the asker's own hold is not someone else's", world: { services: [service('web')] }, asker: { self: ['web'] }, want: null },
  {
    name: 'another holder besides the asker still counts',
    world: { services: [service('web'), service('api')] },
    asker: { self: ['web'] },
    want: ['assigned', { service: 'api' }],
  },
  { name: 'a swap partner is not someone else', world: { services: [service('lone')] }, asker: { self: ['db', 'lone'] }, want: null },
  { name: 'a reservation for another', world: { reservation: reservation('pg') }, want: ['reserved', { reservedFor: 'pg' }] },
  {
    name: 'a reservation for no one counts for everyone',
    world: { reservation: reservation() },
    asker: { self: ['web'] },
    want: ['reserved', {}],
  },
  { name: 'a reservation for the asker does not count', world: { reservation: reservation('pg') }, asker: { self: ['pg'] }, want: null },
  {
    name: 'a holder outranks a reservation',
    world: { services: [service('web')], reservation: reservation('pg') },
    want: ['assigned', { service: 'web' }],
  },
  { name: 'a listener in the last scan', world: { listening: true }, want: ['listening', { pid: 7, process: 'nginx' }] },
  {
    name: 'a reservation outranks a listener',
    world: { reservation: reservation('pg'), listening: true },
    want: ['reserved', { reservedFor: 'pg' }],
  },
  { name: 'listeners do not count when the asker says so (register)', world: { listening: true }, asker: { listeners: false }, want: null },
  {
    name: "behind the asker's own hold, a listener still counts",
    world: { services: [service('web')], listening: true },
    asker: { self: ['web'] },
    want: ['listening', { pid: 7, process: 'nginx' }],
  },
];

describe('takenBy', () => {
  it.each(cases)('$name', ({ world: w, asker, want }) => {
    const { state, index } = world(w);
    const taken = takenBy(state, index, 'tcp', PORT, asker);
    expect(taken && [taken.reason, taken.heldBy]).toEqual(want);
  });

  it('other protocols and ports are apart', () => {
    const { state, index } = world({ services: [service('web')], reservation: reservation('pg'), listening: true });
    expect(takenBy(state, index, 'udp', PORT)).toBeNull();
    expect(takenBy(state, index, 'tcp', PORT + 1)).toBeNull();
  });

  it('says every holder, sorted, for port.get to list', () => {
    const { state, index } = world({ services: [service('web'), service('api')] });
    expect(takenBy(state, index, 'tcp', PORT)).toMatchObject({ reason: 'assigned', services: ['api', 'web'] });
  });
});
