// Time series of the registry: compact buckets per minute (kept 24 h) and per
// hour (kept 90 days). A table is columnar, one time axis and one column per
// series key, because a row-per-sample layout repeats every key in the state
// file. Rows are written by ops (state.ts), so the journal replays them like
// any other change. Pure: time comes in as an argument.
import type { HealthResult, RangeStats, SeriesMetric, ServiceStatus } from '../../client/protocol.ts';

/** A line of the state's status log, as far as uptime needs it (state.ts imports this file: no import back). */
interface StatusEvent {
  at: string;
  service: string;
  status: ServiceStatus;
}

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

export type TableName = 'minute' | 'hour';
export const STEP_MS: Record<TableName, number> = { minute: MINUTE, hour: HOUR };
/** How far back each table reaches. */
export const RETENTION_MS: Record<TableName, number> = { minute: DAY, hour: 90 * DAY };
const SLOTS: Record<TableName, number> = { minute: DAY / MINUTE, hour: (90 * DAY) / HOUR };
/** The most series a table holds; keys beyond it are not recorded (a bound on the state file, not a limit anyone should meet). */
export const MAX_SERIES_KEYS = 2000;

export interface SeriesTable {
  /** Bucket start times (ms), ascending. */
  times: number[];
  /** By series key: one value per time, null where nothing was recorded. */
  values: Record<string, Array<number | null>>;
}

export interface SeriesState {
  minute: SeriesTable;
  hour: SeriesTable;
}

export function emptySeries(): SeriesState {
  return { minute: { times: [], values: {} }, hour: { times: [], values: {} } };
}

/**
 * The state's series, made empty when absent (a state from before them) or
 * not of the expected shape (a hand-edited file): losing a chart is better
 * than a daemon that cannot start.
 */
export function seriesOf(state: { series?: SeriesState }): SeriesState {
  const ok = (t: unknown): boolean =>
    typeof t === 'object' &&
    t !== null &&
    Array.isArray((t as SeriesTable).times) &&
    typeof (t as SeriesTable).values === 'object' &&
    (t as SeriesTable).values !== null;
  if (!state.series || !ok(state.series.minute) || !ok(state.series.hour)) state.series = emptySeries();
  return state.series;
}

/** "metric:subject": the subject (range or service name) comes last, so no key can be "__proto__". */
export function seriesKey(metric: SeriesMetric, subject = ''): string {
  return `${metric}:${subject}`;
}

/** Appends one row. A row at or before the last one is ignored, so a doubled tick changes nothing. */
export function appendSeriesRow(table: SeriesTable, at: number, points: Readonly<Record<string, number | null>>, name: TableName): void {
  const last = table.times.at(-1);
  if (last !== undefined && at <= last) return;
  const before = table.times.length;
  table.times.push(at);
  for (const [key, column] of Object.entries(table.values)) column.push(Object.hasOwn(points, key) ? (points[key] ?? null) : null);
  let keys = Object.keys(table.values).length;
  for (const [key, value] of Object.entries(points)) {
    if (value === null || Object.hasOwn(table.values, key)) continue;
    if (keys >= MAX_SERIES_KEYS) break;
    table.values[key] = [...new Array<null>(before).fill(null), value];
    keys++;
  }
  const over = table.times.length - SLOTS[name];
  if (over > 0) dropFirst(table, over);
}

/** Drops rows older than the cut-offs, and series with nothing left in them. */
export function pruneSeries(series: SeriesState, minuteBefore: number, hourBefore: number): void {
  pruneTable(series.minute, minuteBefore);
  pruneTable(series.hour, hourBefore);
}

function pruneTable(table: SeriesTable, before: number): void {
  let old = 0;
  while (old < table.times.length && table.times[old]! < before) old++;
  if (old > 0) dropFirst(table, old);
  for (const [key, column] of Object.entries(table.values)) if (column.every((v) => v === null)) delete table.values[key];
}

function dropFirst(table: SeriesTable, n: number): void {
  table.times.splice(0, n);
  for (const column of Object.values(table.values)) column.splice(0, n);
}

/** The cut-offs a prune at `now` uses. */
export function pruneCutoffs(now: number): { minuteBefore: number; hourBefore: number } {
  return { minuteBefore: now - RETENTION_MS.minute, hourBefore: now - RETENTION_MS.hour };
}

export interface SampleInput {
  ranges: readonly RangeStats[];
  openConflicts: number;
  services: ReadonlyArray<{ name: string; status: ServiceStatus }>;
  statusLog: readonly StatusEvent[];
  /** The latest health result per service, each with its recent history. */
  health: Iterable<HealthResult>;
}

/**
 * One minute's values: range gauges and open conflicts as they stand at the
 * end of [from, to), and per service the share of its judged time in the
 * minute that it was healthy, and the mean latency of checks made in it.
 * Services with nothing to say (never judged, never checked) get no value.
 */
export function sampleMinute(input: SampleInput, from: number, to: number): Record<string, number | null> {
  const points: Record<string, number | null> = {};
  for (const r of input.ranges) {
    points[seriesKey('range.assigned', r.name)] = r.assigned;
    points[seriesKey('range.reserved', r.name)] = r.reserved;
    points[seriesKey('range.listening', r.name)] = r.listening;
    points[seriesKey('range.utilisation', r.name)] = round(r.utilisation);
  }
  points[seriesKey('conflicts.open')] = input.openConflicts;
  const logOf = new Map<string, StatusEvent[]>();
  for (const e of input.statusLog) {
    const list = logOf.get(e.service);
    if (list) list.push(e);
    else logOf.set(e.service, [e]);
  }
  for (const s of input.services) {
    const up = upShare(logOf.get(s.name) ?? [], s.status, from, to);
    if (up !== null) points[seriesKey('service.up', s.name)] = round(up);
  }
  for (const r of input.health) {
    const ms = [r, ...(r.history ?? [])]
      .filter((h) => h.latencyMs !== null && inside(Date.parse(h.checkedAt), from, to))
      .map((h) => h.latencyMs!);
    if (ms.length > 0) points[seriesKey('service.latencyMs', r.service)] = round(ms.reduce((a, b) => a + b, 0) / ms.length);
  }
  return points;
}

/**
 * The healthy share of the judged time in [from, to). 'registered' is not
 * judged; a service whose log says nothing before `from` is unjudged until its
 * first line, unless it has no line at all (then its current status held).
 */
export function upShare(log: readonly StatusEvent[], current: ServiceStatus, from: number, to: number): number | null {
  const lines = log.map((e) => ({ at: Date.parse(e.at), status: e.status })).sort((a, b) => a.at - b.at);
  let status: ServiceStatus = lines.length === 0 ? current : 'registered';
  let judged = 0;
  let healthy = 0;
  let t = from;
  const add = (until: number) => {
    const span = Math.min(until, to) - t;
    if (span > 0 && status !== 'registered') {
      judged += span;
      if (status === 'healthy') healthy += span;
    }
  };
  for (const line of lines) {
    if (line.at >= to) break;
    if (line.at > t) {
      add(line.at);
      t = line.at;
    }
    status = line.status;
  }
  add(to);
  return judged > 0 ? healthy / judged : null;
}

/** Means of the minute rows in [from, to), per key; keys with no value there are left out. */
export function rollup(minute: SeriesTable, from: number, to: number): Record<string, number | null> {
  const rows: number[] = [];
  minute.times.forEach((t, i) => inside(t, from, to) && rows.push(i));
  const points: Record<string, number | null> = {};
  if (rows.length === 0) return points;
  for (const [key, column] of Object.entries(minute.values)) {
    const m = mean(rows.map((i) => column[i] ?? null));
    if (m !== null) points[key] = round(m);
  }
  return points;
}

/**
 * The rows a tick at `now` owes: the minute that just ended (unless written),
 * and each complete hour after the last hour row that has minute rows to roll
 * up (after a restart, the hours the daemon missed while the minutes remain).
 */
export function dueRows(series: SeriesState | undefined, now: number): { minute: number | null; hours: number[] } {
  const s = series ?? emptySeries();
  const minuteStart = Math.floor(now / MINUTE) * MINUTE - MINUTE;
  const lastMinute = s.minute.times.at(-1);
  const minute = lastMinute === undefined || lastMinute < minuteStart ? minuteStart : null;
  const firstData = s.minute.times[0] ?? minute;
  const lastHour = s.hour.times.at(-1);
  const hours: number[] = [];
  if (firstData === null || firstData === undefined) return { minute, hours };
  const start = Math.max(
    lastHour !== undefined ? lastHour + HOUR : Math.floor(firstData / HOUR) * HOUR,
    Math.floor(now / HOUR) * HOUR - DAY,
  );
  for (let h = start; h + HOUR <= now; h += HOUR) hours.push(h);
  return { minute, hours };
}

/** Most points one stats.series answer may hold. */
export const MAX_POINTS = 5000;

/**
 * The points of one series over [from, to) at `stepMs` (a multiple of a
 * minute): each is the mean of the rows in its step, null where there are
 * none. The minute table answers whenever it reaches back to `from` (it is
 * current to the minute) or the step is finer than an hour; the hour table
 * answers the rest.
 */
export function querySeries(
  series: SeriesState | undefined,
  key: string,
  from: number,
  to: number,
  stepMs: number,
): Array<[number, number | null]> {
  const s = series ?? emptySeries();
  const firstMinute = s.minute.times[0];
  const table = stepMs % HOUR !== 0 || (firstMinute !== undefined && from >= Math.floor(firstMinute / stepMs) * stepMs) ? s.minute : s.hour;
  const column = table.values[key];
  const out: Array<[number, number | null]> = [];
  let i = 0;
  for (let t = Math.floor(from / stepMs) * stepMs; t < to; t += stepMs) {
    const values: Array<number | null> = [];
    while (i < table.times.length && table.times[i]! < t) i++;
    for (; i < table.times.length && table.times[i]! < t + stepMs; i++) values.push(column?.[i] ?? null);
    const m = mean(values);
    out.push([t, m === null ? null : round(m)]);
  }
  return out;
}

/** Hours of history the capacity forecast wants before it says anything. */
export const FORECAST_MIN_HOURS = 24;
/** How far back the forecast looks. */
export const FORECAST_WINDOW_MS = 7 * DAY;

/**
 * When a range runs out of free ports at the rate its use grew over the
 * hourly series (least squares over the last 7 days), or null: with under a
 * day of hourly points, with use flat or falling, or beyond a century.
 */
export function forecastExhaustion(
  hour: SeriesTable | undefined,
  range: Pick<RangeStats, 'name' | 'size' | 'free'>,
  now: number,
): string | null {
  const column = hour?.values[seriesKey('range.utilisation', range.name)];
  if (!hour || !column) return null;
  const xs: number[] = [];
  const ys: number[] = [];
  hour.times.forEach((t, i) => {
    const v = column[i];
    if (v !== null && v !== undefined && t >= now - FORECAST_WINDOW_MS && t <= now) {
      xs.push(t);
      ys.push(v * range.size);
    }
  });
  if (xs.length < FORECAST_MIN_HOURS || xs.at(-1)! - xs[0]! < (FORECAST_MIN_HOURS - 1) * HOUR) return null;
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < xs.length; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  const perMs = den > 0 ? num / den : 0;
  if (perMs <= 0) return null;
  const eta = now + range.free / perMs;
  return eta - now > 100 * 365 * DAY ? null : new Date(eta).toISOString();
}

function mean(values: ReadonlyArray<number | null>): number | null {
  let sum = 0;
  let n = 0;
  for (const v of values) {
    if (v === null) continue;
    sum += v;
    n++;
  }
  return n > 0 ? sum / n : null;
}

function inside(t: number, from: number, to: number): boolean {
  return t >= from && t < to;
}

/** Four decimals: a share or a latency needs no more, and the state file stays small. */
function round(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}
