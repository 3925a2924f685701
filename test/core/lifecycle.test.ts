// The lease-owner rule: a pid whose process started at another time than the
// one recorded is a reused pid, and its owner is dead. Plain data, no OS.
import { describe, expect, it } from 'vitest';
import { countHoldoff, pidReused } from '../../daemon/core/lifecycle.ts';
import { ListenerView } from '../../daemon/core/detect.ts';
import { reconcile } from '../../daemon/core/reconcile.ts';
import { emptyState, type ServiceRecord } from '../../daemon/core/state.ts';
import { serviceRecord } from './fixtures.ts';

const T0 = Date.parse('2025-01-01T00:00:00.000Z');

const lease = (name: string, extra: Partial<ServiceRecord> = {}) => serviceRecord(name, 20000, T0, { origin: 'allocate', ...extra });

describe('pidReused', () => {
  const starts = new Map([[100, 'linux:500']]);
  it.each([
    ['the recorded start matches the running process', { pid: 100, pidStart: 'linux:500' }, starts, false],
    ['the running process started at another time', { pid: 100, pidStart: 'linux:499' }, starts, true],
    ['an older record without a start mark trusts the bare pid', { pid: 100 }, starts, false],
    ['the start of the running pid was not read', { pid: 200, pidStart: 'linux:1' }, starts, false],
    ['nothing was read this round', { pid: 100, pidStart: 'linux:499' }, undefined, false],
    ['no pid at all', { pidStart: 'linux:1' }, starts, false],
  ] as const)('%s', (_, record, given, expected) => {
    expect(pidReused(record, given)).toBe(expected);
  });
});

describe('countHoldoff with start marks', () => {
  it('counts a reused pid as a dead owner, even while that pid listens', () => {
    const services = [
      lease('reused', { pid: 100, pidStart: 'linux:1' }),
      lease('same', { pid: 100, pidStart: 'linux:500' }),
      lease('old', { pid: 100 }),
    ];
    const listening = [{ protocol: 'tcp' as const, address: '0.0.0.0', port: 20000, family: 4 as const, pid: 100 }];
    let holdoff: Record<string, number> = {};
    const dead: string[][] = [];
    for (let round = 0; round < 3; round++) {
      const r = countHoldoff(services, holdoff, new Set(), new ListenerView(listening), 3, new Map([[100, 'linux:500']]));
      holdoff = r.holdoff;
      dead.push(r.dead.map((s) => s.name));
    }
    expect(dead).toEqual([[], [], ['reused']]);
    expect(holdoff).toEqual({ 'reused:100': 3 });
  });

  it('reconcile reclaims the lease of a reused pid after the hold-off and keeps the others', () => {
    const state = emptyState();
    for (const s of [
      lease('reused', { pid: 100, pidStart: 'linux:1', port: 20001 }),
      lease('same', { pid: 100, pidStart: 'linux:500', port: 20002 }),
      lease('old', { pid: 100, port: 20003 }),
    ]) {
      state.services[s.name] = s;
    }
    let holdoff: Record<string, number> = {};
    const released: string[] = [];
    for (let round = 1; round <= 3; round++) {
      const r = reconcile({ state, listeners: [], now: T0 + round, holdoff, deadPids: [], pidStarts: new Map([[100, 'linux:500']]) });
      holdoff = r.holdoff;
      for (const e of r.events) if (e.type === 'port_released') released.push(`${round}:${e.data.service}`);
    }
    expect(released).toEqual(['3:reused']);
  });
});
