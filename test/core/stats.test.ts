import { describe, expect, it } from 'vitest';
import type { Conflict, HealthResult, Range } from '../../client/protocol.ts';
import type { AssignmentEvent, ServiceRecord, StatusEvent } from '../../daemon/core/state.ts';
import { conflictStats, portStats, serviceStats, type PortStatsInput } from '../../daemon/core/stats.ts';
import { iso, serviceRecord } from './fixtures.ts';

const T0 = Date.parse('2026-06-01T00:00:00.000Z');
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const WEB: Range = { name: 'web', start: 8000, end: 8009, purpose: 'test' };
const at = (port: number) => ({ port });
const line = (ago: number, port: number | null, previous: number | null, service = 'x'): AssignmentEvent => ({
  at: iso(T0 - ago),
  service,
  port,
  previous,
  why: 't',
});

function ports(extra: Partial<PortStatsInput>): PortStatsInput {
  return { ranges: [WEB], services: [], reservations: [], listeners: [], history: [], now: T0, ...extra };
}

describe('portStats', () => {
  it.each([
    [
      'a port counts once, as assigned before reserved before listening; ports outside the range are ignored',
      ports({
        services: [at(8000), at(8000), at(8001), at(9000)],
        reservations: [at(8001), at(8002)],
        listeners: [at(8002), at(8003), at(8003), at(8020)],
      }),
      { size: 10, assigned: 2, reserved: 1, listening: 1, free: 6, utilisation: 0.4, trendPerDay: 0, exhaustsAt: null },
    ],
    [
      'trend: lines of the last 7 days moving ports in and out of the range, per day; free / trend gives the date',
      ports({
        services: [at(8000), at(8001), at(8004)],
        history: [
          line(8 * DAY, 8003, null),
          line(3 * DAY, 9000, 8002),
          line(2 * DAY, 8001, null),
          line(DAY, 8000, null),
          line(HOUR, 8004, 8005),
        ],
      }),
      { assigned: 3, free: 7, trendPerDay: 1 / 7, exhaustsAt: iso(T0 + 49 * DAY) },
    ],
    [
      'a shrinking range never exhausts',
      ports({ history: [line(DAY, 9000, 8000), line(DAY, 9001, 8001), line(DAY, 8002, null)] }),
      { trendPerDay: -1 / 7, exhaustsAt: null },
    ],
    [
      'a full range that is still filling is exhausted now',
      ports({ services: Array.from({ length: 10 }, (_, i) => at(8000 + i)), history: [line(HOUR, 8009, null)] }),
      { free: 0, utilisation: 1, exhaustsAt: iso(T0) },
    ],
  ])('%s', (_, input, want) => {
    const [row] = portStats(input);
    expect(row).toMatchObject({ name: 'web', start: 8000, end: 8009, ...want });
    expect(row!.assigned + row!.reserved + row!.listening + row!.free).toBe(row!.size);
  });

  // Issue 6: one allocation 30 s after start printed "FULL BY 2488-01-11".
  it.each([
    ['30 s of history: no forecast, however the trend looks', [line(30_000, 8000, null)], 30, null],
    ['300 ms of history reads as 1 s, not as none', [line(300, 8000, null)], 1, null],
    ['just under a day: still none', [line(DAY - 1000, 8000, null), line(HOUR, 8001, null)], DAY / 1000 - 1, null],
    [
      'three days, filling within ten times that: a date',
      [line(3 * DAY, 8000, null), line(DAY, 8001, null), line(HOUR, 8002, null)],
      (3 * DAY) / 1000,
      iso(T0 + (7 / (3 / 7)) * DAY),
    ],
    ['a day of history, one allocation: full in 63 days is beyond ten days, no date', [line(DAY, 8000, null)], DAY / 1000, null],
  ])('forecast: %s', (_, history, historySec, exhaustsAt) => {
    const services = history.flatMap((h) => (h.port === null ? [] : [at(h.port)]));
    const [row] = portStats(ports({ services, history }));
    expect(row!.trendPerDay).toBeGreaterThan(0);
    expect(row).toMatchObject({ historySec, exhaustsAt });
  });

  it('gives one row per range, overlapping ones counted independently', () => {
    const rows = portStats(ports({ ranges: [WEB, { name: 'wide', start: 0, end: 65535, purpose: '' }], services: [at(8000), at(40000)] }));
    expect(rows.map((r) => [r.name, r.size, r.assigned, r.free])).toEqual([
      ['web', 10, 1, 9],
      ['wide', 65536, 2, 65534],
    ]);
  });
});

const svc = (name: string, bornAgo: number, status: ServiceRecord['status'] = 'healthy') =>
  serviceRecord(name, 8000, T0, { status, registeredAt: iso(T0 - bornAgo) });
const st = (service: string, ago: number, status: StatusEvent['status'], restart = false): StatusEvent => ({
  at: iso(T0 - ago),
  service,
  status,
  ...(restart && { restart: true as const }),
});

describe('serviceStats', () => {
  const services = [
    svc('web', 10 * HOUR),
    svc('plain', HOUR, 'registered'),
    svc('fresh', 0),
    svc('reborn', 30 * MIN, 'unhealthy'),
    svc('flappy', 5 * HOUR, 'registered'),
  ];
  const statusLog: StatusEvent[] = [
    st('web', 10 * HOUR, 'registered'),
    st('web', 9 * HOUR, 'healthy'),
    st('web', 30 * MIN, 'unhealthy'),
    st('web', 15 * MIN, 'healthy'),
    st('plain', HOUR, 'registered'),
    st('fresh', 0, 'registered'),
    st('fresh', 0, 'healthy'),
    st('reborn', 2 * HOUR, 'healthy'), // its previous registration: not counted
    st('reborn', 30 * MIN, 'registered'),
    st('reborn', 20 * MIN, 'unhealthy'),
    st('flappy', 5 * HOUR, 'registered'),
    st('flappy', 4 * HOUR, 'healthy'),
    st('flappy', 3 * HOUR, 'stopped'),
    st('flappy', 2 * HOUR, 'registered', true), // back from stopped: a restart
    st('flappy', HOUR, 'healthy'),
    st('flappy', 30 * MIN, 'registered', true), // a new owner pid: a restart
  ];
  const history = [
    line(6 * HOUR, 102, 101, 'flappy'), // before its registration
    line(5 * HOUR, 100, null, 'flappy'),
    line(4 * HOUR, 101, 100, 'flappy'),
    line(3.5 * HOUR, 101, 101, 'flappy'), // a protocol change on the same port: no move
    line(3 * HOUR, 101, 100, 'web'),
  ];
  const result = (latencies: Array<number | null>): HealthResult => ({
    service: 'web',
    status: 'healthy',
    latencyMs: latencies[0]!,
    checkedAt: iso(T0),
    history: latencies.slice(1).map((latencyMs) => ({ status: 'healthy', latencyMs, checkedAt: iso(T0) })),
  });
  const health = new Map([
    ['web', result([10, 20, null, 30])],
    ['reborn', { ...result([null, null]), service: 'reborn' }],
  ]);
  const out = serviceStats({ services, statusLog, history, health, now: T0 });
  const byName = Object.fromEntries(out.services.map((s) => [s.name, s]));

  it('counts services by status, and lists them by name', () => {
    expect(out.byStatus).toEqual({ registered: 2, healthy: 2, unhealthy: 1, stopped: 0 });
    expect(out.services.map((s) => s.name)).toEqual(['flappy', 'fresh', 'plain', 'reborn', 'web']);
  });

  it.each([
    // healthy 30 of the last 60 min, unhealthy 15, healthy 15; over the longer windows 'registered' (1 h) is not judged.
    ['web', { '1h': 0.75, '24h': 8.75 / 9, '7d': 8.75 / 9 }],
    ['plain', { '1h': null, '24h': null, '7d': null }],
    ['fresh', { '1h': 1, '24h': 1, '7d': 1 }],
    ['reborn', { '1h': 0, '24h': 0, '7d': 0 }],
    // 1h: healthy 30 min, then registered; 24h: healthy 1 h + 30 min of 1 h healthy + 1 h stopped + 30 min healthy.
    ['flappy', { '1h': 1, '24h': 0.6, '7d': 0.6 }],
  ])('uptime of %s', (name, want) => {
    const got = byName[name]!.uptime;
    for (const w of ['1h', '24h', '7d'] as const) {
      if (want[w] === null) expect(got[w]).toBeNull();
      else expect(got[w]).toBeCloseTo(want[w]!, 9);
    }
  });

  it.each([
    ['flappy', 2, 1, null],
    ['web', 0, 1, 20],
    ['reborn', 0, 0, null],
    ['fresh', 0, 0, null],
  ])('%s: restarts %i, portChanges %i, meanLatencyMs %s', (name, restarts, portChanges, meanLatencyMs) => {
    expect(byName[name]).toMatchObject({ restarts, portChanges, meanLatencyMs });
  });
});

function conflict(id: number, port: number, type: Conflict['type'], end?: { after: number; outcome: 'resolved' | 'vanished' }): Conflict {
  const severity = type === 'duplicate_assignment' ? 'critical' : type === 'drift' ? 'info' : 'warning';
  return {
    id: `c${id}`,
    port,
    protocol: 'tcp',
    type,
    severity,
    services: [],
    detectedAt: iso(T0 + id * HOUR),
    resolvedAt: end ? iso(T0 + id * HOUR + end.after) : null,
    resolution: null,
    ...(end && { outcome: end.outcome }),
  };
}

describe('conflictStats', () => {
  it.each([
    [
      'nothing recorded',
      [],
      {
        open: 0,
        resolved: 0,
        vanished: 0,
        byType: { duplicate_assignment: 0, foreign_listener: 0, reserved_in_use: 0, drift: 0 },
        bySeverity: { critical: 0, warning: 0, info: 0 },
        meanTimeToResolveSec: null,
        topPorts: [],
      },
    ],
    [
      'counts by ending, type and severity; mean time to resolve over resolved ones only; top ports by count, then port',
      [
        conflict(1, 8000, 'duplicate_assignment'),
        conflict(2, 8000, 'duplicate_assignment', { after: 60_000, outcome: 'resolved' }),
        conflict(3, 8001, 'drift', { after: 180_000, outcome: 'resolved' }),
        conflict(4, 8000, 'foreign_listener', { after: 999_000, outcome: 'vanished' }),
        conflict(5, 8005, 'reserved_in_use'),
        conflict(6, 8005, 'reserved_in_use', { after: 1, outcome: 'vanished' }),
        conflict(7, 8004, 'drift'),
        conflict(8, 8003, 'drift'),
        conflict(9, 8002, 'drift'),
        conflict(10, 8006, 'drift'),
      ],
      {
        open: 6,
        resolved: 2,
        vanished: 2,
        byType: { duplicate_assignment: 2, foreign_listener: 1, reserved_in_use: 2, drift: 5 },
        bySeverity: { critical: 2, warning: 3, info: 5 },
        meanTimeToResolveSec: 120,
        topPorts: [
          { port: 8000, count: 3 },
          { port: 8005, count: 2 },
          { port: 8001, count: 1 },
          { port: 8002, count: 1 },
          { port: 8003, count: 1 },
        ],
      },
    ],
  ])('%s', (_, conflicts, want) => expect(conflictStats(conflicts)).toEqual(want));
});
