import { describe, expect, it } from 'vitest';
import type { Conflict } from '../../client/protocol.ts';
import {
  covered,
  DAEMON_MOVE,
  DEFAULT_CONFLICT_POLICY,
  matches,
  movesInLastHour,
  planAutoResolve,
  type PlanInput,
} from '../../daemon/core/auto-resolve.ts';
import type { Observation } from '../../daemon/core/observation.ts';
import type { ServiceRecord, State } from '../../daemon/core/state.ts';
import { conflictRecord, iso, serviceRecord, stateOf } from './fixtures.ts';

const T0 = Date.parse('2026-05-01T12:00:00.000Z');
const svc = (name: string, extra: Partial<ServiceRecord> = {}) => serviceRecord(name, 5000, T0, { pid: 100, ...extra });

function conflict(id: string, type: Conflict['type'], services: string[], extra: Partial<Conflict> = {}): Conflict {
  const severity = type === 'duplicate_assignment' || type === 'foreign_listener' ? 'critical' : 'warning';
  return conflictRecord(id, T0, { port: 5000, type, severity, services, ...extra });
}

const foreign: Observation = { protocol: 'tcp', address: '0.0.0.0', port: 5000, family: 4, pid: 999, process: 'intruder' };

function input(state: State, over: Partial<PlanInput> = {}): PlanInput {
  return { state, policy: DEFAULT_CONFLICT_POLICY, listeners: [foreign], deadPids: new Set(), now: T0, ...over };
}

const withConflict = (services: ServiceRecord[], c: Conflict): State => stateOf({ services, conflicts: [c] });

describe('planAutoResolve: foreign_listener', () => {
  const c = conflict('c1', 'foreign_listener', ['app']);
  it.each([
    ['a lease that is not listening moves (the default policy)', svc('app', { origin: 'allocate' }), {}, 'move'],
    ['a registered service that did not opt in is left alone', svc('app'), {}, 'none'],
    ['a registered service that opted in moves', svc('app', { autoResolve: true }), {}, 'move'],
    ['a lease that opted out is left alone', svc('app', { origin: 'allocate', autoResolve: false }), {}, 'none'],
    [
      'a config rule for the type covers a registered service',
      svc('app'),
      { policy: { autoResolve: [{ type: 'foreign_listener', strategy: 'auto' }], maxMovesPerHour: 3 } },
      'move',
    ],
    [
      'a rule for another type does not',
      svc('app'),
      { policy: { autoResolve: [{ type: 'drift', strategy: 'auto' }], maxMovesPerHour: 3 } },
      'none',
    ],
    [
      'a service that is listening itself is not moved',
      svc('app', { autoResolve: true }),
      { listeners: [foreign, { ...foreign, port: 5001, pid: 100 }] },
      'none',
    ],
    ['without a scan nobody is known not to listen', svc('app', { autoResolve: true }), { listeners: null }, 'none'],
    [
      'a lease whose owner started the listener (get-port then spawn) is left alone',
      svc('app', { origin: 'allocate' }),
      { ownChildren: new Set(['c1']) },
      'none',
    ],
    ['a lease whose owner died is released', svc('app', { origin: 'allocate' }), { deadPids: new Set([100]) }, 'release'],
  ] as const)('%s', (_what, s, over, action) => {
    const plan = planAutoResolve(input(withConflict([s], c), over as Partial<PlanInput>));
    expect(plan.steps).toHaveLength(1);
    expect(plan.steps[0]).toMatchObject({ conflict: 'c1', type: 'foreign_listener', port: 5000, action });
  });
});

describe('planAutoResolve: duplicate_assignment', () => {
  it('the newer registration moves', () => {
    const older = svc('old', { origin: 'allocate', registeredAt: iso(T0 - 1000) });
    const newer = svc('new', { origin: 'allocate', pid: 101 });
    const plan = planAutoResolve(input(withConflict([older, newer], conflict('c2', 'duplicate_assignment', ['new', 'old']))));
    expect(plan.steps).toEqual([
      { conflict: 'c2', type: 'duplicate_assignment', port: 5000, action: 'move', service: 'new', note: 'move new to a free port' },
    ]);
  });

  it('... and only if it may be moved', () => {
    const older = svc('old', { origin: 'allocate', registeredAt: iso(T0 - 1000) });
    const newer = svc('new', { pid: 101 });
    expect(
      planAutoResolve(input(withConflict([older, newer], conflict('c2', 'duplicate_assignment', ['new', 'old'])))).steps[0]!.action,
    ).toBe('none');
  });
});

describe('planAutoResolve: what the policy never touches', () => {
  it.each([
    ['reserved_in_use', conflict('c3', 'reserved_in_use', [])],
    ['drift', conflict('c4', 'drift', ['app'])],
    ['an acknowledged conflict', conflict('c5', 'foreign_listener', ['app'], { acknowledged: true })],
    ['a resolved conflict', conflict('c6', 'foreign_listener', ['app'], { resolvedAt: iso(T0) })],
  ])('%s', (_what, c) => {
    const steps = planAutoResolve(input(withConflict([svc('app', { origin: 'allocate' })], c))).steps;
    expect(steps.every((s) => s.action === 'none')).toBe(true);
  });
});

describe('back-off', () => {
  it('holds a service the daemon moved maxMovesPerHour times in the last hour, with a note', () => {
    const state = withConflict([svc('app', { origin: 'allocate' })], conflict('c1', 'foreign_listener', ['app']));
    const move = (ago: number, why = DAEMON_MOVE) =>
      state.history.push({ at: iso(T0 - ago), service: 'app', port: 5000, previous: 4999, why });
    move(3_700_000); // more than an hour ago: does not count
    move(1_000_000);
    move(500_000, 'resolve:auto'); // an operator's move: does not count
    move(200_000);
    expect(planAutoResolve(input(state)).steps[0]!.action).toBe('move');
    move(100_000);
    expect(movesInLastHour(state.history, 'app', T0)).toBe(3);
    expect(planAutoResolve(input(state)).steps[0]).toMatchObject({
      action: 'hold',
      service: 'app',
      note: 'left open: the daemon moved app 3 times in the last hour (maxMovesPerHour 3)',
    });
    // An hour after the first counted move, it may move again.
    expect(planAutoResolve(input(state, { now: T0 + 2_700_000 })).steps[0]!.action).toBe('move');
  });
});

describe('rules', () => {
  it('match by type and minimum severity', () => {
    const c = conflict('c1', 'drift', ['app']);
    expect(matches({ strategy: 'auto' }, c)).toBe(true);
    expect(matches({ strategy: 'auto', minSeverity: 'warning' }, c)).toBe(true);
    expect(matches({ strategy: 'auto', minSeverity: 'critical' }, c)).toBe(false);
    expect(matches({ strategy: 'auto', type: 'drift', minSeverity: 'info' }, c)).toBe(true);
  });

  it("a service's own autoResolve wins over the rules", () => {
    const c = conflict('c1', 'foreign_listener', ['app']);
    expect(covered(svc('app', { autoResolve: false }), c, [{ strategy: 'auto' }])).toBe(false);
    expect(covered(svc('app'), c, [{ strategy: 'auto' }])).toBe(true);
  });
});
