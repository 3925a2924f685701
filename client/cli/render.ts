// How the CLI shows each kind of record to a human. Pure: plain data in,
// text out; `now` and colour come in as arguments.
import type {
  CheckResult,
  Conflict,
  DaemonStatus,
  HeldBy,
  Listener,
  ListenerEvent,
  PortInfo,
  PortmandEvent,
  ResolveResult,
  Service,
  ServiceStatus,
  Severity,
} from '../protocol.ts';
import { compareNames } from '../protocol.ts';
import { formatAge, formatDuration, keyValues, table, type Paint } from './format.ts';
import { safe } from './safe.ts';
import { selfRows } from './self.ts';

export function renderStatusWord(status: ServiceStatus, p: Paint): string {
  if (status === 'healthy') return p.green(status);
  if (status === 'unhealthy') return p.red(status);
  if (status === 'stopped') return p.dim(status);
  return status;
}

function renderSeverity(severity: Severity, p: Paint): string {
  if (severity === 'critical') return p.red(severity);
  if (severity === 'warning') return p.yellow(severity);
  return severity;
}

export function renderServices(services: Service[], p: Paint, filtered = false): string {
  if (services.length === 0) return p.dim(filtered ? 'no services match' : 'no services registered');
  const rows = [...services]
    .sort((a, b) => compareNames(a.name, b.name))
    .map((s) => [s.name, String(s.port), s.protocol, renderStatusWord(s.status, p), s.pid ? String(s.pid) : '-', s.tags.join(',') || '-']);
  return table(['NAME', 'PORT', 'PROTO', 'STATUS', 'PID', 'TAGS'], rows, ['left', 'right'], p.columns);
}

/** `portmand status`: the daemon, then its services. */
export function renderStatus(status: DaemonStatus, services: Service[], now: number, p: Paint, socketNote?: string): string {
  const scan = status.lastScan
    ? `${formatAge(status.lastScan.at, now)} (${status.lastScan.durationMs} ms, ${plural(status.lastScan.listeners, 'listener')})`
    : 'not yet';
  const conflicts = status.openConflicts > 0 ? p.red(`${status.openConflicts} open`) : p.green('none');
  const head = keyValues([
    ['daemon', `${p.green('running')}, version ${status.version}, pid ${status.pid}`],
    ['uptime', formatDuration(status.uptimeSec)],
    ['socket', socketNote ? `${status.socket} (${socketNote})` : status.socket],
    ['state file', status.stateFile],
    ['last scan', scan],
    ['conflicts', conflicts],
    ['services', String(status.services)],
    ...selfRows(status).map(([k, v]): [string, string] => [k, safe(v)]),
  ]);
  return `${head}\n\n${renderServices(services, p)}`;
}

/** "service web, pid 42 (node)": whatever is known about a holder. */
export function renderHeldBy(h: HeldBy | undefined): string {
  if (!h) return 'unknown';
  const parts: string[] = [];
  if (h.service) parts.push(`service ${h.service}`);
  if (h.reservedFor) parts.push(`reserved for ${h.reservedFor}`);
  if (h.pid !== undefined || h.process) parts.push(renderProcess(h.pid, h.process));
  return parts.join(', ') || 'unknown';
}

function renderProcess(pid: number | undefined, name: string | undefined): string {
  if (pid !== undefined && name) return `pid ${pid} (${name})`;
  if (pid !== undefined) return `pid ${pid}`;
  return name ?? "a process it cannot name (another user's, unless the daemon runs as root)";
}

export function renderListener(l: Listener | undefined): string {
  if (!l) return '-';
  const who = l.pid !== undefined || l.process ? `${renderProcess(l.pid, l.process)} ` : '';
  return `${who}on ${l.address}`;
}

export function renderCheck(r: CheckResult, protocol: string, p: Paint): string {
  const port = `${r.port}/${protocol}`;
  if (r.available) return `${port} is ${p.green('available')}`;
  return `${port} is ${p.red('not available')}: ${whyUnavailable(r)}`;
}

function whyUnavailable(r: CheckResult): string {
  const h = r.heldBy ?? {};
  if (r.reason === 'assigned' && h.service) return `assigned to service ${h.service}`;
  if (r.reason === 'reserved' && h.reservedFor) return `reserved for ${h.reservedFor}`;
  if (r.reason === 'listening') return `listened on by ${renderProcess(h.pid, h.process)}`;
  const who = renderHeldBy(h);
  return who === 'unknown' ? (r.reason ?? 'in use') : `${r.reason ?? 'held'} (${who})`;
}

export function renderPorts(ports: PortInfo[], now: number, p: Paint): string {
  if (ports.length === 0) return p.dim('no ports match');
  const rows = ports.map((i) => [
    String(i.port),
    i.protocol,
    i.state,
    i.services?.join(',') ?? i.service ?? (i.reservedFor ? `(for ${i.reservedFor})` : '-'),
    renderListener(i.listener),
    i.expiresAt ? `expires ${formatAge(i.expiresAt, now)}` : (i.reason ?? ''),
  ]);
  return table(['PORT', 'PROTO', 'STATE', 'SERVICE', 'PROCESS', 'NOTE'], rows, ['right'], p.columns);
}

/** Open conflicts, or with `history` the resolved and vanished ones too. */
export function renderConflicts(conflicts: Conflict[], now: number, p: Paint, history: boolean): string {
  if (conflicts.length === 0) return p.dim(history ? 'no conflicts recorded' : 'no open conflicts');
  const headers = ['ID', 'PORT', 'TYPE', 'SEVERITY', 'SERVICES', 'LISTENER', 'DETECTED'];
  const rows = conflicts.map((c) => {
    const row = [
      c.id,
      `${c.port}/${c.protocol}`,
      c.type,
      renderSeverity(c.severity, p),
      c.services.join(',') || '-',
      renderListener(c.listener),
      formatAge(c.detectedAt, now),
    ];
    return history ? [...row, renderEnding(c, now)] : row;
  });
  return table(history ? [...headers, 'ENDED'] : headers, rows, [], p.columns);
}

/** A conflict the registration opened, labelled by how bad it is: a critical one is an error, not a warning. */
export function renderConflictLine(c: Conflict, p: Paint): string {
  const text = `${c.type} on ${c.port}/${c.protocol} with ${c.services.join(', ')}${c.listener ? ` and ${renderListener(c.listener)}` : ''} (conflict ${c.id})`;
  if (c.severity === 'critical') return p.red(`critical: ${text}`);
  if (c.severity === 'warning') return p.yellow(`warning: ${text}`);
  return `note: ${text}`;
}

function renderEnding(c: Conflict, now: number): string {
  if (!c.resolvedAt) return c.acknowledged ? 'open (acknowledged)' : 'open';
  if (!c.resolution) return `vanished ${formatAge(c.resolvedAt, now)}`;
  const { strategy, from, to, by } = c.resolution;
  return `${strategy} ${from}->${to ?? '-'} by ${by}, ${formatAge(c.resolvedAt, now)}`;
}

export function renderResolve(r: ResolveResult, withService?: string): string {
  const what = r.service ? r.service.name : `port ${r.from}`;
  let moved = r.from === r.to ? `${what} keeps ${r.to}` : `moved ${what} from ${r.from} to ${r.to}`;
  if (withService && r.from !== r.to) moved += ` and ${withService} from ${r.to} to ${r.from}`;
  const c = r.conflict;
  if (!c) return moved;
  if (c.resolvedAt) return `${moved}; conflict ${c.id} resolved`;
  if (c.acknowledged) return `${moved}, reserved for it; conflict ${c.id} acknowledged, it closes when the other listener goes away`;
  return `${moved}; conflict ${c.id} stays open: ${c.services.join(', ')} still share port ${c.port}`;
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** One line per event for `portmand watch`: local time, type, what happened. */
export function renderEvent(e: PortmandEvent, p: Paint): string {
  const t = new Date(e.time);
  const time = Number.isNaN(t.getTime())
    ? e.time
    : [t.getHours(), t.getMinutes(), t.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
  return `${p.dim(time)}  ${e.type.padEnd(20)}  ${describeEvent(e, p)}`;
}

function describeEvent(e: PortmandEvent, p: Paint): string {
  const d = e.data as Record<string, unknown>;
  switch (e.type) {
    case 'service_registered': {
      const s = e.data as Service;
      return `${s.name} on ${s.port}/${s.protocol}`;
    }
    case 'service_unregistered': {
      const ports = (d.releasedPorts as number[] | undefined) ?? [];
      return `${d.name}${ports.length ? ` (released ${ports.join(', ')})` : ''}`;
    }
    case 'port_assigned':
      return `${d.service} -> ${d.port}${d.previous !== undefined ? ` (was ${d.previous})` : ''}`;
    case 'port_released':
      return `${d.port}${d.service ? ` (${d.service})` : ''}`;
    case 'conflict_detected':
    case 'conflict_resolved': {
      const c = e.data as Conflict;
      const what = `${renderSeverity(c.severity, p)} ${c.type} on ${c.port}/${c.protocol} [${c.services.join(',')}] ${c.id}`;
      return e.type === 'conflict_resolved' && c.resolution
        ? `${what}: ${c.resolution.strategy} ${c.resolution.from}->${c.resolution.to ?? '-'}`
        : what;
    }
    case 'service_health': {
      const status = renderStatusWord(d.status as ServiceStatus, p);
      return `${d.service} ${d.previous} -> ${status}${d.error ? ` (${d.error})` : ''}`;
    }
    case 'service_restarted':
      return `${d.service} on ${d.port} (${d.reason}): ${d.ok ? 'ok' : p.red(`failed${d.error ? `: ${d.error}` : ''}`)}`;
    case 'alert_failed':
      return `${d.alert}: ${p.red(String(d.error))}`;
    case 'listener_started':
    case 'listener_stopped': {
      // Escaped by the caller, like every string here: a process name is whatever its owner chose.
      const l = e.data as ListenerEvent;
      const who = [l.pid !== undefined ? `pid ${l.pid}` : '', l.process ?? ''].filter(Boolean).join(' ');
      return `${l.port}/${l.protocol} on ${l.address}${who ? ` (${who})` : ''}`;
    }
    default:
      return JSON.stringify(e.data);
  }
}
