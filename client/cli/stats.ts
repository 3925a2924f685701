// `portmand stats`: port use per range, service uptime, conflict counts.
import { formatDuration, keyValues, table, type Paint } from './format.ts';
import {
  LIMITS,
  SERIES_METRICS,
  type ConflictStats,
  type RangeStats,
  type SeriesResult,
  type ServiceStats,
  type ServiceStatus,
} from '../protocol.ts';
import { oneOf, str, type Verb } from './args.ts';
import { bar, fit, lineChart, pictures } from './charts.ts';
import { parseSince } from './history.ts';
import { safe } from './safe.ts';
import { show } from './show.ts';

export interface AllStats {
  ports: { ranges: RangeStats[] };
  services: { byStatus: Partial<Record<ServiceStatus, number>>; services: ServiceStats[] };
  conflicts: ConflictStats;
}

export const stats: Verb = {
  name: 'stats',
  summary: 'statistics: port use and trend per range, service uptime and restarts, conflict counts',
  details: [
    'With --json: { ports, services, conflicts }, the results of stats.ports, stats.services and stats.conflicts.',
    `With --chart METRIC: a line chart of one time series (stats.series); METRIC is one of`,
    `  ${SERIES_METRICS.join(', ')}.`,
    'range.* take --range (default: registered), service.* need --service. With --json: the stats.series result.',
    'Pictures (bars, charts) are drawn on a terminal only, and not with NO_COLOR; otherwise plain numbers.',
  ].join('\n'),
  options: {
    chart: { type: 'string', value: 'METRIC', help: 'draw a line chart of this series instead of the tables' },
    range: { type: 'string', value: 'R', help: 'with --chart: the range of a range.* metric' },
    service: { type: 'string', value: 'S', help: 'with --chart: the service of a service.* metric' },
    since: { type: 'string', value: 'T', help: 'with --chart: from T, an ISO time or an age (default 24h; up to 90d)' },
  },
  positionals: { min: 0, max: 0 },
  async run(ctx) {
    const pm = ctx.client();
    const metric = oneOf(ctx.values.chart, '--chart', SERIES_METRICS);
    if (metric !== undefined) {
      const now = ctx.io.now();
      const from = parseSince(str(ctx.values.since) ?? '24h', now);
      const step = chartStep((now - Date.parse(from)) / 1000);
      const series = await pm.stats.series({
        metric,
        from,
        step,
        ...(str(ctx.values.range) !== undefined && { range: str(ctx.values.range)! }),
        ...(str(ctx.values.service) !== undefined && { service: str(ctx.values.service)! }),
      });
      show(ctx, series, () => renderSeries(series, pictures(ctx.io)));
      return;
    }
    const [ports, services, conflicts] = await Promise.all([pm.stats.ports(), pm.stats.services(), pm.stats.conflicts()]);
    const all: AllStats = { ports, services, conflicts };
    show(ctx, all, (escaped, p) => renderStats(escaped, p, pictures(ctx.io)));
  },
};

/** About a hundred points whatever the span: whole minutes within the minute buckets' 24 h, whole hours beyond. */
export function chartStep(spanSec: number): number {
  const minutes = Math.max(1, Math.ceil(spanSec / 100 / 60));
  return spanSec > 86_400 ? Math.ceil(minutes / 60) * 3600 : minutes * 60;
}

/** A line chart of a series, or with `pics` false one "time value" line per point. */
export function renderSeries(s: SeriesResult, pics: boolean, width = 72): string {
  const label = `${s.metric}, one point per ${s.step % 3600 === 0 ? `${s.step / 3600}h` : `${s.step / 60}m`}`;
  if (!pics) return [label, ...s.points.map(([t, v]) => `${t}  ${v === null ? '-' : v}`)].join('\n');
  const values = fit(
    s.points.map(([, v]) => v),
    width,
  );
  const first = s.points[0]?.[0] ?? '';
  const last = s.points.at(-1)?.[0] ?? '';
  return [label, lineChart(values, { height: 10 }), `${first.slice(0, 16)} .. ${last.slice(0, 16)} UTC`].join('\n');
}

// A range of 48,000 ports with two in use is not "0.0%" used.
const pct = (x: number | null) => (x === null ? '-' : x > 0 && x < 0.001 ? '<0.1%' : `${(x * 100).toFixed(1)}%`);

export function renderStats(s: AllStats, p: Paint, pics = false): string {
  return [
    p.bold('Ports'),
    renderRanges(s.ports.ranges, p, pics),
    '',
    p.bold('Services'),
    renderServiceStats(s.services, p),
    '',
    p.bold('Conflicts'),
    renderConflictStats(s.conflicts),
  ].join('\n');
}

function renderRanges(ranges: RangeStats[], p: Paint, pics: boolean): string {
  const rows = ranges.map((r) => [
    safe(r.name),
    `${r.start}-${r.end}`,
    String(r.assigned),
    String(r.reserved),
    String(r.listening),
    String(r.free),
    pics ? `${bar(r.utilisation, 20)} ${pct(r.utilisation).padStart(6)}` : pct(r.utilisation),
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
  const counts = Object.entries(s.byStatus)
    .map(([status, n]) => `${status} ${n}`)
    .join(', ');
  if (s.services.length === 0) return p.dim('no services registered');
  const rows = s.services.map((x) => [
    safe(x.name),
    pct(x.uptime['1h']),
    pct(x.uptime['24h']),
    pct(x.uptime['7d']),
    String(x.restarts),
    String(x.portChanges),
    x.meanLatencyMs === null ? '-' : `${x.meanLatencyMs} ms`,
  ]);
  const t = table(
    ['NAME', 'UP 1H', 'UP 24H', 'UP 7D', 'RESTARTS', 'PORT CHANGES', 'LATENCY'],
    rows,
    ['left', 'right', 'right', 'right', 'right', 'right', 'right'],
    p.columns,
  );
  return `${counts}\n${t}`;
}

function renderConflictStats(c: ConflictStats): string {
  const nonZero = (o: Record<string, number | undefined>) =>
    Object.entries(o)
      .filter(([, n]) => n)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ') || '-';
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
