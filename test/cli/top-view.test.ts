import { describe, expect, it } from 'vitest';
import { paint } from '../../client/cli/format.ts';
import { onKey, splitKeys } from '../../client/cli/top.ts';
import { applyEvent, clipVisible, emptyModel, EVENT_LOG, renderTop, visibleServices, type TopModel } from '../../client/cli/top-view.ts';
import type { Conflict, PortmandEvent, Service } from '../../client/protocol.ts';

const T0 = Date.UTC(2025, 0, 1, 12);
const svc = (name: string, port: number, over: Partial<Service> = {}): Service => ({
  name,
  port,
  protocol: 'tcp',
  host: '0.0.0.0',
  status: 'registered',
  tags: [],
  registeredAt: new Date(T0).toISOString(),
  updatedAt: '',
  ...over,
});
const ev = <T extends PortmandEvent['type']>(type: T, data: unknown, seq = 1): PortmandEvent => ({
  type,
  seq,
  time: new Date(T0).toISOString(),
  data: data as never,
});
const conflict: Conflict = {
  id: 'c1',
  port: 3000,
  protocol: 'tcp',
  type: 'duplicate_assignment',
  severity: 'critical',
  services: ['a', 'b'],
  detectedAt: '',
  resolvedAt: null,
  resolution: null,
};

function model(): TopModel {
  const m = emptyModel();
  for (const s of [svc('web', 3000, { status: 'healthy', tags: ['ui'] }), svc('api', 8080, { status: 'unhealthy' }), svc('job', 4000)])
    m.services.set(s.name, s);
  m.health.set('web', { service: 'web', status: 'healthy', latencyMs: 5, checkedAt: '' });
  m.health.set('api', { service: 'api', status: 'unhealthy', latencyMs: 1, checkedAt: '' });
  m.uptime.set('web', [1, 1, 0.5, null, 0]);
  m.ranges = [
    {
      name: 'dev',
      start: 1,
      end: 10,
      size: 10,
      assigned: 2,
      reserved: 0,
      listening: 0,
      free: 8,
      utilisation: 0.2,
      trendPerDay: 0,
      exhaustsAt: null,
      historySec: 0,
    },
  ];
  return m;
}

describe('top model', () => {
  it('follows events: registration, moves, health, conflicts opening and closing, unregistration', () => {
    const m = model();
    applyEvent(m, ev('service_registered', svc('new', 5000)));
    applyEvent(m, ev('port_assigned', { service: 'web', port: 3001, previous: 3000 }));
    applyEvent(m, ev('service_health', { service: 'job', status: 'healthy', previous: 'registered', latencyMs: 7 }));
    applyEvent(m, ev('conflict_detected', conflict));
    expect(m.services.get('new')?.port).toBe(5000);
    expect(m.services.get('web')?.port).toBe(3001);
    expect(m.services.get('job')?.status).toBe('healthy');
    expect(m.health.get('job')?.latencyMs).toBe(7);
    expect([...m.conflicts.keys()]).toEqual(['c1']);
    applyEvent(m, ev('conflict_resolved', { ...conflict, resolvedAt: 'x' }));
    applyEvent(m, ev('service_unregistered', { name: 'new', releasedPorts: [5000] }));
    expect(m.conflicts.size).toBe(0);
    expect(m.services.has('new')).toBe(false);
  });

  it('keeps a bounded event log', () => {
    const m = model();
    for (let i = 0; i < EVENT_LOG + 10; i++) applyEvent(m, ev('port_released', { port: i }, i));
    expect(m.events.length).toBe(EVENT_LOG);
    expect(m.events[0]!.seq).toBe(10);
  });

  it('keys sort, filter by status and tag, select, show one service and quit', () => {
    const m = model();
    const names = () => visibleServices(m).map((s) => s.name);
    expect(names()).toEqual(['api', 'job', 'web']);
    onKey(m, 's');
    expect(names()).toEqual(['web', 'job', 'api']); // by port
    onKey(m, 's');
    onKey(m, 's');
    expect(m.sort).toBe('latency');
    expect(names()).toEqual(['api', 'web', 'job']); // no latency last
    onKey(m, 'f');
    expect(names()).toEqual(['web']); // healthy
    onKey(m, 'f');
    onKey(m, 'f');
    onKey(m, 'f');
    onKey(m, 'f');
    expect(m.status).toBe('all');
    onKey(m, 't');
    expect(names()).toEqual(['web']);
    onKey(m, 't');
    expect(m.tag).toBeNull();
    for (const k of splitKeys('jj\x1b[A\r')) onKey(m, k);
    expect(m.detail).toBe('web');
    onKey(m, '\x1b');
    expect(m.detail).toBeNull();
    expect(onKey(m, 'q')).toBe(true);
    expect(onKey(m, '\x03')).toBe(true);
  });

  it('splits a read into key presses', () => {
    expect(splitKeys('j\r\x1b[Bq\x1bs')).toEqual(['j', '\r', '\x1b[B', 'q', '\x1b', 's']);
  });
});

describe('renderTop', () => {
  it('draws the list, conflicts, range bars and events at a fixed width', () => {
    const m = model();
    applyEvent(m, ev('conflict_detected', conflict));
    const lines = renderTop(m, { columns: 100, rows: 30 }, paint(false), T0);
    expect(lines.join('\n')).toBe(
      [
        'portmand top  live  services 3  open conflicts 1',
        'q quit  s sort  f status  t tag  ↑↓ select  enter show  esc back',
        '',
        'sort name  status all  tag all',
        '  NAME                      PORT  STATUS      UP 24H                    LATENCY',
        '> api                       8080  unhealthy                             1 ms',
        '  job                       4000  registered                            -',
        '  web                       3000  healthy     ██▅ ▁                     5 ms',
        '',
        'Open conflicts (1)',
        '  c1  3000/tcp  duplicate_assignment  critical  a,b',
        '',
        'Ranges',
        '  dev  █████░░░░░░░░░░░░░░░░░░░  20.0%  2/10',
        '',
        'Last events',
        '  12:00:00  conflict_detected     critical duplicate_assignment on 3000/tcp [a,b] c1'.replace(
          '12:00:00',
          new Date(T0).toTimeString().slice(0, 8),
        ),
      ].join('\n'),
    );
  });

  it('never writes a control character from the daemon, and clips every line to the width', () => {
    const m = model();
    const hostile = 'x\x1b]0;pwned\x07\x1b[2J';
    m.services.set(hostile, svc(hostile, 9, { tags: ['\x1b[31mred'] }));
    applyEvent(m, ev('service_registered', svc(hostile, 9)));
    m.ranges = [{ ...m.ranges[0]!, name: '\x1b[Hrange' }];
    const lines = renderTop(m, { columns: 50, rows: 40 }, paint(false), T0);
    for (const l of lines) {
      expect(l).not.toMatch(/[\x00-\x1f\x7f]/);
      expect(l.length).toBeLessThanOrEqual(50);
    }
    expect(lines.join('\n')).toContain('x\\u001b]0;pwned\\u0007');
  });

  it('clips coloured text by what shows, keeping the codes whole', () => {
    expect(clipVisible('\x1b[32mhealthy\x1b[39m tail', 4)).toBe('\x1b[32mheal\x1b[0m');
    expect(clipVisible('short', 10)).toBe('short');
  });

  it('shows one service alone', () => {
    const m = model();
    m.detail = 'web';
    const text = renderTop(m, { columns: 80, rows: 30 }, paint(false), T0 + 42_000).join('\n');
    expect(text).toMatch(/port {6}3000\/tcp on 0\.0\.0\.0/);
    expect(text).toMatch(/up 24h {4}██▅ ▁/);
    expect(text).toMatch(/age {7}42s/);
  });
});
