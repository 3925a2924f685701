// What `portmand top` shows, as a pure function of its model: services with
// port, status, uptime sparkline and latency; open conflicts; range bars;
// the last events. One frame is an array of lines no wider than the screen.
// Every daemon string passes through safe() before it is measured or painted.
import type { Conflict, HealthResult, PortmandEvent, RangeStats, Service, ServiceStatus } from '../protocol.ts';
import { bar, sparkline } from './charts.ts';
import { paint, type Paint } from './format.ts';
import { renderEvent, renderStatusWord } from './render.ts';
import { safe } from './safe.ts';

export const SORTS = ['name', 'port', 'status', 'latency'] as const;
export type SortKey = (typeof SORTS)[number];
export const STATUS_FILTERS = ['all', 'healthy', 'unhealthy', 'registered', 'stopped'] as const;
export type StatusFilter = (typeof STATUS_FILTERS)[number];

export interface TopModel {
  services: Map<string, Service>;
  health: Map<string, HealthResult>;
  /** Hourly uptime shares of the last 24 h, per service. */
  uptime: Map<string, Array<number | null>>;
  conflicts: Map<string, Conflict>;
  ranges: RangeStats[];
  events: PortmandEvent[];
  sort: SortKey;
  status: StatusFilter;
  /** null = every tag. */
  tag: string | null;
  selected: number;
  /** The service shown alone, or null for the list. */
  detail: string | null;
  connected: boolean;
}

export function emptyModel(): TopModel {
  return {
    services: new Map(),
    health: new Map(),
    uptime: new Map(),
    conflicts: new Map(),
    ranges: [],
    events: [],
    sort: 'name',
    status: 'all',
    tag: null,
    selected: 0,
    detail: null,
    connected: true,
  };
}

/** The most events the model keeps. */
export const EVENT_LOG = 50;

/** Applies one pushed event to the model, so the screen follows the daemon without polling. */
export function applyEvent(m: TopModel, e: PortmandEvent): void {
  m.events.push(e);
  if (m.events.length > EVENT_LOG) m.events.splice(0, m.events.length - EVENT_LOG);
  const d = e.data as never;
  switch (e.type) {
    case 'service_registered': {
      const s = d as Service;
      m.services.set(s.name, s);
      return;
    }
    case 'service_unregistered':
      m.services.delete((d as { name: string }).name);
      m.health.delete((d as { name: string }).name);
      return;
    case 'port_assigned': {
      const { service, port } = d as { service: string; port: number };
      const s = m.services.get(service);
      if (s) m.services.set(service, { ...s, port });
      return;
    }
    case 'conflict_detected': {
      const c = d as Conflict;
      m.conflicts.set(c.id, c);
      return;
    }
    case 'conflict_resolved':
      m.conflicts.delete((d as Conflict).id);
      return;
    case 'service_health': {
      const h = d as { service: string; status: ServiceStatus; latencyMs?: number };
      const s = m.services.get(h.service);
      if (s) m.services.set(h.service, { ...s, status: h.status });
      if (h.latencyMs !== undefined)
        m.health.set(h.service, { service: h.service, status: h.status, latencyMs: h.latencyMs, checkedAt: e.time });
      return;
    }
    default:
      return;
  }
}

/** The services the list shows, filtered and sorted as asked. */
export function visibleServices(m: TopModel): Service[] {
  const latency = (s: Service) => m.health.get(s.name)?.latencyMs ?? Infinity;
  const by: Record<SortKey, (a: Service, b: Service) => number> = {
    name: (a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
    port: (a, b) => a.port - b.port,
    status: (a, b) => a.status.localeCompare(b.status) || by.name(a, b),
    latency: (a, b) => latency(a) - latency(b) || by.name(a, b),
  };
  return [...m.services.values()]
    .filter((s) => (m.status === 'all' || s.status === m.status) && (m.tag === null || s.tags.includes(m.tag)))
    .sort(by[m.sort]);
}

/** Every tag in use, sorted: what the tag filter cycles through. */
export function tagsInUse(m: TopModel): string[] {
  return [...new Set([...m.services.values()].flatMap((s) => s.tags))].sort();
}

/** One frame; `live` false is the snapshot printed off a terminal: no key help, no event log. */
export function renderTop(m: TopModel, size: { columns: number; rows: number }, p: Paint, now: number, live = true): string[] {
  const w = Math.max(40, size.columns);
  const clip = (line: string) => clipVisible(line, w);
  const state = !live ? 'snapshot' : m.connected ? p.green('live') : p.red('reconnecting');
  const head = `portmand top  ${state}  services ${m.services.size}  open conflicts ${m.conflicts.size}`;
  const keys = p.dim('q quit  s sort  f status  t tag  ↑↓ select  enter show  esc back');
  const lines: string[] = live ? [head, keys, ''] : [head, ''];
  if (m.detail !== null) lines.push(...renderDetail(m, m.detail, p, now));
  else lines.push(...renderList(m, p));
  lines.push('', p.bold(`Open conflicts (${m.conflicts.size})`));
  const conflicts = [...m.conflicts.values()].sort((a, b) => a.port - b.port);
  if (conflicts.length === 0) lines.push(p.dim('  none'));
  for (const c of conflicts.slice(0, 5))
    lines.push(`  ${safe(c.id)}  ${c.port}/${c.protocol}  ${safe(c.type)}  ${safe(c.severity)}  ${c.services.map(safe).join(',') || '-'}`);
  if (conflicts.length > 5) lines.push(p.dim(`  and ${conflicts.length - 5} more`));
  lines.push('', p.bold('Ranges'));
  const nameW = Math.min(16, Math.max(0, ...m.ranges.map((r) => safe(r.name).length)));
  for (const r of m.ranges) {
    const pct = `${(r.utilisation * 100).toFixed(1)}%`.padStart(6);
    lines.push(`  ${safe(r.name).slice(0, nameW).padEnd(nameW)}  ${bar(r.utilisation, 24)} ${pct}  ${r.size - r.free}/${r.size}`);
  }
  if (!live) return lines.map(clip);
  const room = Math.max(0, size.rows - lines.length - 2);
  lines.push('', p.bold('Last events'));
  const events = m.events.slice(-Math.min(room, 8));
  if (events.length === 0) lines.push(p.dim('  none yet'));
  // Painted plain: safe() would show the colour codes of a painted line as text.
  for (const e of events) lines.push(`  ${safe(renderEvent(e, paint(false)))}`);
  return lines.slice(0, Math.max(1, size.rows)).map(clip);
}

function renderList(m: TopModel, p: Paint): string[] {
  const filter = `${p.dim('sort')} ${m.sort}  ${p.dim('status')} ${m.status}  ${p.dim('tag')} ${m.tag === null ? 'all' : safe(m.tag)}`;
  const list = visibleServices(m);
  const out = [filter, p.bold(`${'  NAME'.padEnd(26)}${'PORT'.padStart(6)}  ${'STATUS'.padEnd(10)}  ${'UP 24H'.padEnd(24)}  LATENCY`)];
  if (list.length === 0) out.push(p.dim(m.services.size === 0 ? '  no services registered' : '  no services match'));
  list.forEach((s, i) => {
    const mark = i === Math.min(m.selected, list.length - 1) ? '>' : ' ';
    const h = m.health.get(s.name);
    const latency = h && h.latencyMs !== null ? `${h.latencyMs} ms` : '-';
    const status = renderStatusWord(s.status, p) + ' '.repeat(Math.max(0, 10 - s.status.length));
    const spark = sparkline(m.uptime.get(s.name) ?? [], { min: 0, max: 1 }).padEnd(24);
    out.push(`${mark} ${safe(s.name).slice(0, 23).padEnd(24)}${String(s.port).padStart(6)}  ${status}  ${spark}  ${latency}`);
  });
  return out;
}

function renderDetail(m: TopModel, name: string, p: Paint, now: number): string[] {
  const s = m.services.get(name);
  if (!s) return [p.dim(`${safe(name)} is no longer registered (esc to go back)`)];
  const h = m.health.get(name);
  const since = Math.round((now - Date.parse(s.registeredAt)) / 1000);
  return [
    p.bold(safe(s.name)),
    `  port      ${s.port}/${s.protocol} on ${safe(s.host)}`,
    `  status    ${renderStatusWord(s.status, p)}`,
    `  owner     ${s.pid !== undefined ? `pid ${s.pid}` : '-'}${s.process ? ` (${safe(s.process)})` : ''}`,
    `  tags      ${s.tags.map(safe).join(', ') || '-'}`,
    `  latency   ${h && h.latencyMs !== null ? `${h.latencyMs} ms` : '-'}`,
    `  up 24h    ${sparkline(m.uptime.get(name) ?? [], { min: 0, max: 1 })}`,
    `  age       ${Number.isFinite(since) ? `${since}s` : '-'}`,
    `  conflicts ${
      [...m.conflicts.values()]
        .filter((c) => c.services.includes(name))
        .map((c) => safe(c.id))
        .join(', ') || 'none'
    }`,
  ];
}

const ANSI = /\x1b\[[0-9;]*m/y;

/** Cuts a line to `width` visible characters, keeping colour codes whole and resetting them at the cut. */
export function clipVisible(line: string, width: number): string {
  let out = '';
  let visible = 0;
  let painted = false;
  for (let i = 0; i < line.length;) {
    ANSI.lastIndex = i;
    const m = ANSI.exec(line);
    if (m) {
      out += m[0];
      painted = true;
      i += m[0].length;
      continue;
    }
    if (visible === width) return painted ? `${out}\x1b[0m` : out;
    const ch = String.fromCodePoint(line.codePointAt(i)!);
    out += ch;
    visible++;
    i += ch.length;
  }
  return out;
}
