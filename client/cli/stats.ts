// `portmand stats`: port use per range, service uptime, conflict counts.
import { formatDuration, keyValues, table, type Paint } from './format.ts';
import { LIMITS, type ConflictStats, type RangeStats, type ServiceStats, type ServiceStatus } from '../protocol.ts';
import type { Verb } from './args.ts';
import { show } from './show.ts';

export interface AllStats {
  ports: { ranges: RangeStats[] };
  services: { byStatus: Partial<Record<ServiceStatus, number>>; services: ServiceStats[] };
  conflicts: ConflictStats;
}

export const stats: Verb = {
  name: 'stats',
  summary: 'statistics: port use and trend per range, service uptime and restarts, conflict counts',
  details: 'With --json: { ports, services, conflicts }, the results of stats.ports, stats.services and stats.conflicts.',
  options: {},
  positionals: { min: 0, max: 0 },
  async run(ctx) {
    const pm = ctx.client();
    const [ports, services, conflicts] = await Promise.all([pm.stats.ports(), pm.stats.services(), pm.stats.conflicts()]);
    const all: AllStats = { ports, services, conflicts };
    show(ctx, all, (safe, p) => renderStats(safe, p));
  },
};

// A range of 48,000 ports with two in use is not "0.0%" used.
const pct = (x: number | null) => (x === null ? '-' : x > 0 && x < 0.001 ? '<0.1%' : `${(x * 100).toFixed(1)}%`);

export function renderStats(s: AllStats, p: Paint): string {
  return [p.bold('Ports'), renderRanges(s.ports.ranges, p), '', p.bold('Services'), renderServiceStats(s.services, p), '', p.bold('Conflicts'), renderConflictStats(s.conflicts)].join('\n');
}

function renderRanges(ranges: RangeStats[], p: Paint): string {
  const rows = ranges.map((r) => [
    r.name,
    `${r.start}-${r.end}`,
    String(r.assigned),
    String(r.reserved),
    String(r.listening),
    String(r.free),
    pct(r.utilisation),
    `${r.trendPerDay >= 0 ? '+' : ''}${r.trendPerDay.toFixed(2)}`,
    r.exhaustsAt ? r.exhaustsAt.slice(0, 10) : '-',
  ]);
  const headers = ['RANGE', 'PORTS', 'ASSIGNED', 'RESERVED', 'LISTENING', 'FREE', 'USED', 'TREND/DAY', 'FULL BY'];
  const t = table(headers, rows, ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'right'], p.columns);
  return [t, ...forecastNote(ranges, p)].join('\n');
}

// A "-" under FULL BY means "not filling" unless the daemon has not watched long enough to tell.
function forecastNote(ranges: RangeStats[], p: Paint): string[] {
  const young = ranges.find((r) => r.exhaustsAt === null && r.historySec < LIMITS.forecastMinHistorySec);
  if (!young) return [];
  const have = young.historySec > 0 ? `${formatDuration(young.historySec)} so far` : 'none yet';
  return [p.dim(`FULL BY: no forecast until there is ${formatDuration(LIMITS.forecastMinHistorySec)} of allocation history (${have})`)];
}

function renderServiceStats(s: AllStats['services'], p: Paint): string {
  const counts = Object.entries(s.byStatus).map(([status, n]) => `${status} ${n}`).join(', ');
  if (s.services.length === 0) return p.dim('no services registered');
  const rows = s.services.map((x) => [
    x.name,
    pct(x.uptime['1h']),
    pct(x.uptime['24h']),
    pct(x.uptime['7d']),
    String(x.restarts),
    String(x.portChanges),
    x.meanLatencyMs === null ? '-' : `${x.meanLatencyMs} ms`,
  ]);
  const t = table(['NAME', 'UP 1H', 'UP 24H', 'UP 7D', 'RESTARTS', 'PORT CHANGES', 'LATENCY'], rows, ['left', 'right', 'right', 'right', 'right', 'right', 'right'], p.columns);
  return `${counts}\n${t}`;
}

function renderConflictStats(c: ConflictStats): string {
  const nonZero = (o: Record<string, number | undefined>) =>
    Object.entries(o).filter(([, n]) => n).map(([k, n]) => `${k} ${n}`).join(', ') || '-';
  return keyValues([
    ['open', String(c.open)],
    ['resolved', String(c.resolved)],
    ['vanished', String(c.vanished)],
    ['by type', nonZero(c.byType)],
    ['by severity', nonZero(c.bySeverity)],
    ['time to resolve', c.meanTimeToResolveSec === null ? '-' : `${meanDuration(c.meanTimeToResolveSec)} on average`],
    ['top ports', c.topPorts.map((t) => `${t.port} (${t.count})`).join(', ') || '-'],
  ]);
}

function meanDuration(sec: number): string {
  return sec < 60 ? `${sec.toFixed(1)}s` : formatDuration(sec);
}
