// Health decisions: what a probe result means for a service's status, and
// which services are due for a check. The probing itself is the shell's.
import { compareNames, LIMITS, type HealthResult, type ServiceStatus } from '../../client/protocol.ts';
import { probeErrorText } from './probe-error.ts';
import { iso, statusOp, type Effects, type ServiceRecord, type State } from './state.ts';

/** How many past results health.get returns per service. */
export const HEALTH_HISTORY = 20;
export const DEFAULT_TIMEOUT_MS = 2000;

export interface ProbeOutcome {
  ok: boolean;
  latencyMs: number | null;
  error?: string;
}

/** Where a check goes: the URL, or the service's own port on the loopback of its bind address. */
export type CheckTarget = { type: 'http'; url: string; timeoutMs: number } | { type: 'tcp'; host: string; port: number; timeoutMs: number };

export function checkTarget(s: Pick<ServiceRecord, 'host' | 'port' | 'healthCheck'>): CheckTarget | null {
  const hc = s.healthCheck;
  if (!hc) return null;
  // A check stored before the cap existed is held to it too.
  const timeoutMs = Math.min(hc.timeoutMs ?? DEFAULT_TIMEOUT_MS, LIMITS.healthTimeoutMs);
  if (hc.type === 'http') return { type: 'http', url: hc.url, timeoutMs };
  // A wildcard bind is reached on the loopback of its family.
  const host = s.host === '0.0.0.0' ? '127.0.0.1' : s.host === '::' ? '::1' : s.host;
  return { type: 'tcp', host, port: s.port, timeoutMs };
}

/** Whether two targets probe the same thing the same way (a probe of a changed check is stale). */
export function sameTarget(a: CheckTarget | null, b: CheckTarget | null): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The host a target connects to: the URL's host name or address, or the TCP address. Null for a URL that does not parse. */
export function targetHost(t: CheckTarget): string | null {
  if (t.type === 'tcp') return t.host;
  try {
    return new URL(t.url).hostname.replace(/^\[(.*)\]$/, '$1');
  } catch {
    return null;
  }
}

/** The services with a check whose interval has passed since their last one (never checked: due now). */
export function dueForCheck(state: State, lastCheckedAt: ReadonlyMap<string, number>, now: number, defaultIntervalSec: number): string[] {
  const due: string[] = [];
  for (const s of Object.values(state.services)) {
    // A stopped service's owner is gone: probing it would only argue with reconcile.
    if (!s.healthCheck || s.status === 'stopped') continue;
    const last = lastCheckedAt.get(s.name);
    const interval = (s.healthCheck.intervalSec ?? defaultIntervalSec) * 1000;
    if (last === undefined || now - last >= interval) due.push(s.name);
  }
  return due.sort(compareNames);
}

/** The result record for a probe outcome, with the previous results as its history (newest first). */
export function healthResult(name: string, outcome: ProbeOutcome, now: number, previous: HealthResult | undefined): HealthResult {
  const status: ServiceStatus = outcome.ok ? 'healthy' : 'unhealthy';
  const entry = { status, latencyMs: outcome.latencyMs, checkedAt: iso(now), ...(outcome.error !== undefined && { error: probeErrorText(outcome.error) }) };
  const older = previous ? [stripHistory(previous), ...(previous.history ?? [])] : [];
  return { service: name, ...entry, history: older.slice(0, HEALTH_HISTORY - 1) };
}

function stripHistory(r: HealthResult): Omit<HealthResult, 'service' | 'history'> {
  const { service: _s, history: _h, ...entry } = r;
  return entry;
}

/** A status change is durable and announced; the same status again changes nothing. */
export function healthEffects(state: State, result: HealthResult, now: number): Effects {
  const s = state.services[result.service];
  // 'stopped' is reconcile's verdict on the owner process; only a new registration lifts it.
  if (!s || s.status === result.status || s.status === 'stopped') return { ops: [], events: [] };
  return {
    ops: [
      { op: 'service', name: s.name, value: { ...s, status: result.status, updatedAt: iso(now) } },
      statusOp(s.name, result.status, now),
    ],
    events: [
      {
        type: 'service_health',
        data: {
          service: s.name,
          status: result.status,
          previous: s.status,
          ...(result.latencyMs !== null && { latencyMs: result.latencyMs }),
          ...(result.error !== undefined && { error: result.error }),
        },
      },
    ],
  };
}
