import { describe, expect, it } from 'vitest';
import { collectMetrics, downMetrics, renderProm, type MetricsInput } from '../../client/cli/prom.ts';
import type { Conflict, DaemonStatus } from '../../client/protocol.ts';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { parseProm } from './prom-parse.ts';
import { rangeStats } from '../core/fixtures.ts';

const HOSTILE = 'evil\\"} portmand_up 0\nportmand_fake{x="1"} 1';

const status: DaemonStatus = {
  version: '0.1.0',
  pid: 42,
  uptimeSec: 90,
  socket: '/s',
  stateFile: '/f',
  services: 3,
  openConflicts: 1,
  lastScan: { at: '2025-01-01T00:00:00.000Z', durationMs: 12, listeners: 30 },
  process: { rssBytes: 50_000_000, heapUsedBytes: 20_000_000, cpuSec: 1.25, openFds: 21 },
  store: { journalBytes: 1234, snapshotBytes: 5678, lastCompactionAt: '2025-01-01T00:00:00.000Z' },
  requests: {
    total: 3,
    totalSinceStart: 10,
    byMethod: {
      'port.allocate': { count: 3, p50Ms: 1.5, p99Ms: 4, countSinceStart: 9 },
      'daemon.ping': { count: 0, p50Ms: null, p99Ms: null, countSinceStart: 1 },
    },
  },
};
const conflict = (type: Conflict['type'], severity: Conflict['severity']): Conflict => ({
  id: 'c1',
  port: 1,
  protocol: 'tcp',
  type,
  severity,
  services: [],
  detectedAt: '',
  resolvedAt: null,
  resolution: null,
});
const input: MetricsInput = {
  status,
  ranges: [rangeStats('dev'), rangeStats(HOSTILE)],
  byStatus: { healthy: 2, stopped: 1 },
  openConflicts: [conflict('drift', 'warning'), conflict('drift', 'warning'), conflict('foreign_listener', 'critical')],
  health: [
    { service: 'web', status: 'healthy', latencyMs: 12.5, checkedAt: '' },
    { service: HOSTILE, status: 'unhealthy', latencyMs: null, checkedAt: '' },
  ],
};

describe('portmand metrics: Prometheus text format 0.0.4', () => {
  const text = renderProm(collectMetrics(input));
  const families = parseProm(text);
  const value = (name: string, labels: Record<string, string> = {}) =>
    families
      .get(name)
      ?.samples.find((s) => JSON.stringify(Object.entries(s.labels).sort()) === JSON.stringify(Object.entries(labels).sort()))?.value;

  it('is read by a third-party parser (parse-prometheus-text-format) with the same families, values and labels, hostile ones included', () => {
    const theirs = parsePrometheusTextFormat(text);
    expect(theirs.map((f) => f.name).sort()).toEqual([...families.keys()].sort());
    for (const f of theirs) {
      const ours = families.get(f.name)!;
      expect(f.type.toLowerCase()).toBe(ours.type);
      expect(f.metrics.map((m) => [m.labels ?? {}, Number(m.value)])).toEqual(ours.samples.map((x) => [x.labels, x.value]));
    }
    const hostile = theirs.find((f) => f.name === 'portmand_health_up')!.metrics.find((m) => m.labels?.service === HOSTILE);
    expect(hostile?.value).toBe('0');
  });

  it('parses back strictly: HELP and TYPE once per family, before its samples', () => {
    for (const f of families.values()) {
      expect(f.help.length).toBeGreaterThan(0);
      expect(['gauge', 'counter']).toContain(f.type);
      if (f.type === 'counter') expect(f.name).toMatch(/_total$/);
    }
  });

  it('has the stable names the README lists', () => {
    expect([...families.keys()]).toEqual([
      'portmand_up',
      'portmand_info',
      'portmand_uptime_seconds',
      'portmand_range_size_ports',
      'portmand_range_ports',
      'portmand_range_utilisation_ratio',
      'portmand_services',
      'portmand_conflicts_open',
      'portmand_health_up',
      'portmand_health_latency_seconds',
      'portmand_requests_total',
      'portmand_requests_last_minute',
      'portmand_request_duration_seconds',
      'portmand_scan_duration_seconds',
      'portmand_scan_listeners',
      'portmand_scan_last_timestamp_seconds',
      'portmand_store_journal_bytes',
      'portmand_store_snapshot_bytes',
      'portmand_store_last_compaction_timestamp_seconds',
      'portmand_process_resident_memory_bytes',
      'portmand_process_heap_used_bytes',
      'portmand_process_cpu_seconds_total',
      'portmand_process_open_fds',
    ]);
  });

  it('carries the figures, in base units', () => {
    expect(value('portmand_range_ports', { range: 'dev', state: 'free' })).toBe(6);
    expect(value('portmand_range_utilisation_ratio', { range: 'dev' })).toBe(0.4);
    expect(value('portmand_services', { status: 'healthy' })).toBe(2);
    expect(value('portmand_services', { status: 'registered' })).toBe(0);
    expect(value('portmand_conflicts_open', { type: 'drift', severity: 'warning' })).toBe(2);
    expect(value('portmand_conflicts_open', { type: 'drift', severity: 'critical' })).toBe(0);
    expect(families.get('portmand_conflicts_open')!.samples).toHaveLength(12);
    expect(value('portmand_health_latency_seconds', { service: 'web' })).toBe(0.0125);
    expect(value('portmand_requests_total', { method: 'port.allocate' })).toBe(9);
    expect(value('portmand_request_duration_seconds', { method: 'port.allocate', quantile: '0.99' })).toBe(0.004);
    expect(value('portmand_request_duration_seconds', { method: 'daemon.ping', quantile: '0.5' })).toBeUndefined();
    expect(value('portmand_scan_duration_seconds')).toBe(0.012);
    expect(value('portmand_process_open_fds')).toBe(21);
  });

  it('escapes backslash, quote and newline in label values, so a hostile name forges nothing', () => {
    expect(value('portmand_health_up', { service: HOSTILE })).toBe(0);
    expect(value('portmand_range_size_ports', { range: HOSTILE })).toBe(10);
    expect(families.has('portmand_fake')).toBe(false);
    expect(families.get('portmand_up')!.samples).toEqual([{ name: 'portmand_up', labels: {}, value: 1 }]);
    expect(text.split('\n').filter((l) => l.startsWith('portmand_fake'))).toEqual([]);
  });

  it('leaves out what an older daemon does not report', () => {
    const { process: _p, store: _s, requests: _r, ...old } = status;
    const names = [...parseProm(renderProm(collectMetrics({ ...input, status: { ...old, lastScan: null } }))).keys()];
    expect(
      names.some((n) => n.startsWith('portmand_process_') || n.startsWith('portmand_store_') || n.startsWith('portmand_request')),
    ).toBe(false);
    expect(names).not.toContain('portmand_scan_duration_seconds');
  });

  it('says portmand_up 0 when the daemon is away', () => {
    expect(renderProm(downMetrics())).toBe(
      '# HELP portmand_up Whether the daemon answered this scrape (1) or not (0).\n# TYPE portmand_up gauge\nportmand_up 0\n',
    );
  });

  it('the test parser itself refuses what a scraper would', () => {
    expect(() => parseProm('# HELP a x\n# TYPE a gauge\na{l="x"y"} 1\n')).toThrow();
    expect(() => parseProm('# HELP a x\n# TYPE a gauge\na{l="\\x"} 1\n')).toThrow(/bad escape/);
    expect(() => parseProm('# HELP a x\n# TYPE a gauge\na 1\n# HELP a x\n')).toThrow(/twice/);
    expect(() => parseProm('# HELP a x\na 1\n# TYPE a gauge\n')).toThrow(/TYPE after samples/);
    expect(() => parseProm('# HELP a x\n# TYPE a gauge\na 1\na 2\n')).toThrow(/duplicate/);
    expect(() => parseProm('# HELP a x\n# TYPE a gauge\na one\n')).toThrow(/bad value/);
  });
});
