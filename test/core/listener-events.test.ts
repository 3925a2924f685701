import { describe, expect, it } from 'vitest';
import { listenerChanges } from '../../daemon/core/listener-events.ts';
import type { Observation } from '../../daemon/core/observation.ts';

const l = (port: number, extra: Partial<Observation> = {}): Observation => ({
  protocol: 'tcp',
  address: '127.0.0.1',
  port,
  family: 4,
  ...extra,
});

describe('listenerChanges', () => {
  it.each<[string, Observation[] | null, Observation[], Array<[string, number, number?]>]>([
    ['the first scan announces nothing', null, [l(3000), l(3001)], []],
    ['no change, no events', [l(3000, { pid: 5 })], [l(3000, { pid: 5, process: 'renamed' })], []],
    ['a new listener starts', [l(3000)], [l(3000), l(3001, { pid: 7 })], [['listener_started', 3001, 7]]],
    ['a gone listener stops', [l(3000), l(3001)], [l(3001)], [['listener_stopped', 3000]]],
    [
      'a process restarted on its port stops, then starts',
      [l(3000, { pid: 5 })],
      [l(3000, { pid: 6 })],
      [
        ['listener_stopped', 3000, 5],
        ['listener_started', 3000, 6],
      ],
    ],
    [
      'the same port on another address or protocol is another listener; stops first, then starts, by port',
      [l(4000), l(3000)],
      [l(3000, { address: '::', family: 6 }), l(3000, { protocol: 'udp' }), l(2000)],
      [
        ['listener_stopped', 3000],
        ['listener_stopped', 4000],
        ['listener_started', 2000],
        ['listener_started', 3000],
        ['listener_started', 3000],
      ],
    ],
    ['a listener first seen without its process, then with it, is one listener: no events', [l(3000)], [l(3000, { pid: 5 })], []],
    ['one whose process was missed once is still the same listener', [l(3000, { pid: 5 })], [l(3000)], []],
    [
      'a pid-less listener paired once: a second process on the place still starts',
      [l(3000)],
      [l(3000, { pid: 5 }), l(3000, { pid: 6 })],
      [['listener_started', 3000, 6]],
    ],
  ])('%s', (_name, before, after, want) => {
    const got = listenerChanges(before, after).map((e) => [e.type, (e.data as { port: number }).port, (e.data as { pid?: number }).pid]);
    expect(got).toEqual(want.map(([t, port, pid]) => [t, port, pid]));
  });

  it('carries port, protocol, address, pid and process, and leaves out what the OS did not say', () => {
    const [started] = listenerChanges([], [l(3000, { pid: 9, process: 'node' })]);
    expect(started).toEqual({
      type: 'listener_started',
      data: { port: 3000, protocol: 'tcp', address: '127.0.0.1', pid: 9, process: 'node' },
    });
    const [stopped] = listenerChanges([l(3000)], []);
    expect(stopped).toEqual({ type: 'listener_stopped', data: { port: 3000, protocol: 'tcp', address: '127.0.0.1' } });
  });
});
