// The statistics of stats.ports, stats.services and stats.conflicts: plain
// aggregates over the state, the latest scan and the durable histories. Pure:
// time comes in as `now`, so every figure is a table-driven test.
import { compareNames, CONFLICT_TYPES, LIMITS, SERVICE_STATUSES, SEVERITIES } from '../../client/protocol.ts';
import type { Conflict, ConflictStats, HealthResult, Range, RangeStats, ServiceStats, ServiceStatus } from '../../client/protocol.ts';
import { contains } from './ranges.ts';
import type { AssignmentEvent, ServiceRecord, StatusEvent } from './state.ts';

const HOUR = 3600_000;
const DAY = 24 * HOUR;
/** The window trendPerDay looks back over. */
export const TREND_DAYS = 7;
/**
 * A straight line drawn through a few days of history says nothing about
 * years ahead: no exhaustion date further out than this many times the span
 * of history the trend rests on.
 */
export const FORECAST_HORIZON_FACTOR = 10;
export const UPTIME_WINDOWS = { '1h': HOUR, '24h': DAY, '7d': 7 * DAY } as const;

/** A zero count for every value of an enumeration, so a tally names each one. */
function zeros<K extends string>(keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
}

export interface PortStatsInput {
  ranges: readonly Range[];
  services: ReadonlyArray<Pick<ServiceRecord, 'port'>>;
  reservations: ReadonlyArray<{ port: number }>;
  /** What the latest scan saw listening (empty before the first scan). */
  listeners: ReadonlyArray<{ port: number }>;
  history: readonly AssignmentEvent[];
  now: number;
  /** When given, the capacity forecast (core/series.ts forecastExhaustion over the hourly series) replaces the trend-based one. */
  forecast?: (range: { name: string; size: number; free: number }) => string | null;
}

/**
 * One row per range. A port counts once whatever its protocols, in the first
 * state that applies: assigned, then reserved, then listening (by a process no
 * service holds it for), else free, so the four add up to `size`.
 */
export function portStats(input: PortStatsInput): RangeStats[] {
  const assigned = new Set(input.services.map((s) => s.port));
  const reserved = new Set(input.reservations.map((r) => r.port).filter((p) => !assigned.has(p)));
  const listening = new Set(input.listeners.map((l) => l.port).filter((p) => !assigned.has(p) && !reserved.has(p)));
  const since = input.now - TREND_DAYS * DAY;
  const recent = input.history.filter((h) => inWindow(h.at, since, input.now));
  const historyMs = historySpan(input.history, input.now);
  return input.ranges.map((range) => {
    const size = range.end - range.start + 1;
    const count = (ports: Set<number>) => [...ports].filter((p) => contains(range, p)).length;
    const a = count(assigned);
    const r = count(reserved);
    const l = count(listening);
    const free = size - a - r - l;
    const trendPerDay = netGrowth(recent, range) / TREND_DAYS;
    return {
      name: range.name,
      start: range.start,
      end: range.end,
      size,
      assigned: a,
      reserved: r,
      listening: l,
      free,
      utilisation: (size - free) / size,
      trendPerDay,
      exhaustsAt: input.forecast ? input.forecast({ name: range.name, size, free }) : exhaustion(free, trendPerDay, historyMs, input.now),
      // Rounded up: a history of 300 ms is some history, not "none yet".
      historySec: Math.ceil(historyMs / 1000),
    };
  });
}

/**
 * When the range runs out at today's trend, or null when it is not filling or
 * the forecast would mean nothing: under LIMITS.forecastMinHistorySec of
 * history (one allocation in the first 30 s would otherwise predict a date
 * centuries away), or further out than FORECAST_HORIZON_FACTOR times the
 * history it rests on. A full range that is still filling is full now.
 */
function exhaustion(free: number, trendPerDay: number, historyMs: number, now: number): string | null {
  if (trendPerDay <= 0) return null;
  if (free === 0) return new Date(now).toISOString();
  if (historyMs < LIMITS.forecastMinHistorySec * 1000) return null;
  const aheadMs = (free / trendPerDay) * DAY;
  if (aheadMs > FORECAST_HORIZON_FACTOR * Math.min(historyMs, TREND_DAYS * DAY)) return null;
  return new Date(now + aheadMs).toISOString();
}

/** How far back the assignment history reaches from `now` (0 with none). */
function historySpan(history: readonly AssignmentEvent[], now: number): number {
  let oldest = now;
  for (const h of history) {
    const t = Date.parse(h.at);
    if (t < oldest) oldest = t;
  }
  return now - oldest;
}

/**
 * Ports that history lines moved into the range minus those moved out. It
 * counts assignments, not distinct ports: two services sharing a port are two.
 */
function netGrowth(lines: readonly AssignmentEvent[], range: Range): number {
  let net = 0;
  for (const h of lines) {
    if (h.action === 'reserved' || h.action === 'unreserved') continue;
    if (h.port !== null && contains(range, h.port)) net++;
    if (h.previous !== null && contains(range, h.previous)) net--;
  }
  return net;
}

export interface ServiceStatsInput {
  services: readonly ServiceRecord[];
  statusLog: readonly StatusEvent[];
  history: readonly AssignmentEvent[];
  /** The health results held in memory: the latest per service, with its recent history. */
  health: ReadonlyMap<string, HealthResult>;
  now: number;
}

export interface ServiceStatsResult {
  byStatus: Record<ServiceStatus, number>;
  services: ServiceStats[];
}

/**
 * Per service, over its current registration only (lines since `registeredAt`,
 * so a name registered again starts afresh):
 * - uptime: the share of the window, as far as the status log covers it with a
 *   judged status (healthy, unhealthy or stopped), that the service was
 *   healthy; 'registered' is "not judged yet" and counts neither way; null
 *   when no judged status falls in the window.
 * - restarts: how often it started over as 'registered' after its first
 *   registration: a new owner pid registered it, or it came back from 'stopped'.
 * - portChanges: assignment-history lines that moved it from one port to another.
 */
export function serviceStats(input: ServiceStatsInput): ServiceStatsResult {
  const byStatus = zeros(SERVICE_STATUSES);
  // Grouped once: both logs hold up to 10,000 lines, and there may be many services.
  const statusOf = groupBy(input.statusLog, (e) => e.service);
  const historyOf = groupBy(input.history, (h) => h.service);
  const services = [...input.services]
    .sort((a, b) => compareNames(a.name, b.name))
    .map((s): ServiceStats => {
      byStatus[s.status]++;
      const born = Date.parse(s.registeredAt);
      const log = (statusOf.get(s.name) ?? [])
        .filter((e) => Date.parse(e.at) >= born && Date.parse(e.at) <= input.now)
        .sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
      return {
        name: s.name,
        uptime: {
          '1h': uptime(log, Math.max(born, input.now - UPTIME_WINDOWS['1h']), input.now),
          '24h': uptime(log, Math.max(born, input.now - UPTIME_WINDOWS['24h']), input.now),
          '7d': uptime(log, Math.max(born, input.now - UPTIME_WINDOWS['7d']), input.now),
        },
        portChanges: (historyOf.get(s.name) ?? []).filter(
          (h) => h.port !== null && h.previous !== null && h.port !== h.previous && Date.parse(h.at) >= born,
        ).length,
        restarts: log.filter((e) => e.restart === true).length,
        meanLatencyMs: meanLatency(input.health.get(s.name)),
      };
    });
  return { byStatus, services };
}

/** `log` is one service's lines, oldest first, none after `to`. */
function uptime(log: readonly StatusEvent[], from: number, to: number): number | null {
  let judged = 0;
  let healthy = 0;
  for (let i = 0; i < log.length; i++) {
    const e = log[i]!;
    const start = Math.max(from, Date.parse(e.at));
    const end = i + 1 < log.length ? Math.min(to, Date.parse(log[i + 1]!.at)) : to;
    if (end <= start || e.status === 'registered') continue;
    judged += end - start;
    if (e.status === 'healthy') healthy += end - start;
  }
  if (judged > 0) return healthy / judged;
  // A status judged at this very instant covers no time, yet says how the service is.
  const last = log.at(-1);
  if (last && Date.parse(last.at) === to && last.status !== 'registered') return last.status === 'healthy' ? 1 : 0;
  return null;
}

function meanLatency(result: HealthResult | undefined): number | null {
  if (!result) return null;
  const ms = [result, ...(result.history ?? [])].flatMap((r) => (r.latencyMs !== null ? [r.latencyMs] : []));
  return ms.length > 0 ? Math.round((ms.reduce((a, b) => a + b, 0) / ms.length) * 10) / 10 : null;
}

/** Over every conflict kept (closed ones are pruned oldest first, see retention.ts). */
export function conflictStats(conflicts: readonly Conflict[]): ConflictStats {
  const byType = zeros(CONFLICT_TYPES);
  const bySeverity = zeros(SEVERITIES);
  const perPort = new Map<number, number>();
  let open = 0;
  let vanished = 0;
  const resolveMs: number[] = [];
  for (const c of conflicts) {
    byType[c.type]++;
    bySeverity[c.severity]++;
    perPort.set(c.port, (perPort.get(c.port) ?? 0) + 1);
    if (c.resolvedAt === null) open++;
    else if (c.outcome === 'resolved') resolveMs.push(Date.parse(c.resolvedAt) - Date.parse(c.detectedAt));
    else if (c.outcome === 'vanished') vanished++;
  }
  const topPorts = [...perPort]
    .map(([port, count]) => ({ port, count }))
    .sort((a, b) => b.count - a.count || a.port - b.port)
    .slice(0, 5);
  const meanTimeToResolveSec = resolveMs.length > 0 ? resolveMs.reduce((a, b) => a + b, 0) / resolveMs.length / 1000 : null;
  return { open, resolved: resolveMs.length, vanished, byType, bySeverity, meanTimeToResolveSec, topPorts };
}

function inWindow(at: string, from: number, to: number): boolean {
  const t = Date.parse(at);
  return t > from && t <= to;
}

function groupBy<T>(xs: readonly T[], key: (x: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const x of xs) {
    const group = groups.get(key(x));
    if (group) group.push(x);
    else groups.set(key(x), [x]);
  }
  return groups;
}
