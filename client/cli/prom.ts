// The Prometheus text exposition format 0.0.4 for `portmand metrics`: what
// the daemon reports, as metric families with stable names (listed in the
// README). Pure: the daemon's answers in, text out. Label values are escaped
// as the format requires (backslash, double quote, newline), so a hostile
// name cannot forge a sample.
import type { Conflict, ConflictType, DaemonStatus, HealthResult, RangeStats, ServiceStatus, Severity } from '../protocol.ts';

export interface Sample {
  labels?: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  help: string;
  type: 'gauge' | 'counter';
  samples: Sample[];
}

export interface MetricsInput {
  status: DaemonStatus;
  ranges: RangeStats[];
  byStatus: Partial<Record<ServiceStatus, number>>;
  openConflicts: Conflict[];
  health: HealthResult[];
}

const STATUSES: readonly ServiceStatus[] = ['registered', 'healthy', 'unhealthy', 'stopped'];
const TYPES: readonly ConflictType[] = ['duplicate_assignment', 'foreign_listener', 'reserved_in_use', 'drift'];
const SEVERITIES: readonly Severity[] = ['critical', 'warning', 'info'];
const seconds = (iso: string) => Date.parse(iso) / 1000;

/** Every family, in a fixed order; families with no samples are left out. */
export function collectMetrics(m: MetricsInput): Family[] {
  const s = m.status;
  const f: Family[] = [];
  const add = (name: string, type: Family['type'], help: string, samples: Sample[]) =>
    samples.length > 0 && f.push({ name, type, help, samples });
  const one = (value: number | undefined | null, labels?: Record<string, string>): Sample[] =>
    value === undefined || value === null ? [] : [{ value, ...(labels && { labels }) }];

  add('portmand_up', 'gauge', 'Whether the daemon answered this scrape (1) or not (0).', one(1));
  add('portmand_info', 'gauge', 'Always 1; the daemon version is a label.', one(1, { version: s.version }));
  add('portmand_uptime_seconds', 'gauge', 'Seconds since the daemon started.', one(s.uptimeSec));
  add(
    'portmand_range_size_ports',
    'gauge',
    'Ports in each configured range.',
    m.ranges.map((r) => ({ labels: { range: r.name }, value: r.size })),
  );
  add(
    'portmand_range_ports',
    'gauge',
    'Ports of each range by state (assigned, reserved, listening, free); the four add up to the size.',
    m.ranges.flatMap((r) =>
      (['assigned', 'reserved', 'listening', 'free'] as const).map((state) => ({ labels: { range: r.name, state }, value: r[state] })),
    ),
  );
  add(
    'portmand_range_utilisation_ratio',
    'gauge',
    'Share of each range not free (0..1).',
    m.ranges.map((r) => ({ labels: { range: r.name }, value: r.utilisation })),
  );
  add(
    'portmand_range_exhausts_timestamp_seconds',
    'gauge',
    'When the range is forecast to have no free port (only for ranges with a forecast).',
    m.ranges.flatMap((r) => (r.exhaustsAt ? [{ labels: { range: r.name }, value: seconds(r.exhaustsAt) }] : [])),
  );
  add(
    'portmand_services',
    'gauge',
    'Registered services by status.',
    STATUSES.map((status) => ({ labels: { status }, value: m.byStatus[status] ?? 0 })),
  );
  add(
    'portmand_conflicts_open',
    'gauge',
    'Open conflicts by type and severity.',
    TYPES.flatMap((type) =>
      SEVERITIES.map((severity) => ({
        labels: { type, severity },
        value: m.openConflicts.filter((c) => c.type === type && c.severity === severity).length,
      })),
    ),
  );
  add(
    'portmand_health_up',
    'gauge',
    'Whether the latest health check of each service passed.',
    m.health.map((h) => ({ labels: { service: h.service }, value: h.status === 'healthy' ? 1 : 0 })),
  );
  add(
    'portmand_health_latency_seconds',
    'gauge',
    'Latency of the latest passing health check of each service.',
    m.health.flatMap((h) => (h.latencyMs !== null ? [{ labels: { service: h.service }, value: h.latencyMs / 1000 }] : [])),
  );
  const byMethod = Object.entries(s.requests?.byMethod ?? {});
  add(
    'portmand_requests_total',
    'counter',
    'Requests answered since the daemon started, by method.',
    byMethod.map(([method, r]) => ({ labels: { method }, value: r.countSinceStart })),
  );
  add(
    'portmand_requests_last_minute',
    'gauge',
    'Requests answered in the last minute, by method.',
    byMethod.map(([method, r]) => ({ labels: { method }, value: r.count })),
  );
  add(
    'portmand_request_duration_seconds',
    'gauge',
    'Request latency over the last minute by method: quantile 0.5 and 0.99 (within about 5%).',
    byMethod.flatMap(([method, r]) => [
      ...one(r.p50Ms === null ? null : r.p50Ms / 1000, { method, quantile: '0.5' }),
      ...one(r.p99Ms === null ? null : r.p99Ms / 1000, { method, quantile: '0.99' }),
    ]),
  );
  add(
    'portmand_scan_duration_seconds',
    'gauge',
    'How long the latest listener scan took.',
    one(s.lastScan && s.lastScan.durationMs / 1000),
  );
  add('portmand_scan_listeners', 'gauge', 'Listening sockets the latest scan saw.', one(s.lastScan?.listeners));
  add('portmand_scan_last_timestamp_seconds', 'gauge', 'When the latest scan ran.', one(s.lastScan && seconds(s.lastScan.at)));
  add('portmand_store_journal_bytes', 'gauge', 'Size of the journal file.', one(s.store?.journalBytes));
  add('portmand_store_snapshot_bytes', 'gauge', 'Size of the snapshot (state) file.', one(s.store?.snapshotBytes));
  add(
    'portmand_store_last_compaction_timestamp_seconds',
    'gauge',
    'When the journal was last compacted into the snapshot.',
    one(s.store?.lastCompactionAt ? seconds(s.store.lastCompactionAt) : null),
  );
  add('portmand_process_resident_memory_bytes', 'gauge', 'Resident memory of the daemon process.', one(s.process?.rssBytes));
  add('portmand_process_heap_used_bytes', 'gauge', 'JavaScript heap in use in the daemon process.', one(s.process?.heapUsedBytes));
  add('portmand_process_cpu_seconds_total', 'counter', 'CPU time (user and system) the daemon process has used.', one(s.process?.cpuSec));
  add('portmand_process_open_fds', 'gauge', 'Open file descriptors of the daemon process (Linux).', one(s.process?.openFds));
  return f;
}

/** The family of a scrape that could not reach the daemon. */
export function downMetrics(): Family[] {
  return [{ name: 'portmand_up', type: 'gauge', help: 'Whether the daemon answered this scrape (1) or not (0).', samples: [{ value: 0 }] }];
}

/** Text format 0.0.4: HELP and TYPE once per family, then its samples; ends with a newline. */
export function renderProm(families: readonly Family[]): string {
  const lines: string[] = [];
  for (const fam of families) {
    lines.push(`# HELP ${fam.name} ${escapeHelp(fam.help)}`, `# TYPE ${fam.name} ${fam.type}`);
    for (const s of fam.samples) {
      const labels = Object.entries(s.labels ?? {});
      const set = labels.length > 0 ? `{${labels.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}` : '';
      lines.push(`${fam.name}${set} ${formatValue(s.value)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function formatValue(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  return String(x);
}
