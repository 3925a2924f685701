// Health decisions: what a probe result means for a service's status, and
// which services are due for a check. The probing itself is the shell's.
import { compareNames, LIMITS, type HealthCheck, type HealthResult, type ServiceStatus } from '../../client/protocol.ts';
import type { HealthEntry, Streak } from './health-log.ts';
import { probeErrorText } from './probe-error.ts';
import { iso, statusOp, type EmittedEvent, type Effects, type Op, type ServiceRecord, type State } from './state.ts';

/** How many past results health.get returns per service. */
export const HEALTH_HISTORY = 20;
export const DEFAULT_TIMEOUT_MS = 2000;

export interface ProbeOutcome {
  ok: boolean;
  latencyMs: number | null;
  error?: string;
}

/** Where a check goes: the URL, or the service's own port on the loopback of its bind address. */
export type CheckTarget =
  { type: 'http'; url: string; timeoutMs: number; expectStatus?: string } | { type: 'tcp'; host: string; port: number; timeoutMs: number };

export function checkTarget(s: Pick<ServiceRecord, 'host' | 'port' | 'healthCheck'>): CheckTarget | null {
  const hc = s.healthCheck;
  if (!hc) return null;
  // A check stored before the cap existed is held to it too.
  const timeoutMs = Math.min(hc.timeoutMs ?? DEFAULT_TIMEOUT_MS, LIMITS.healthTimeoutMs);
  if (hc.type === 'http')
    return { type: 'http', url: hc.url, timeoutMs, ...(hc.expectStatus !== undefined && { expectStatus: hc.expectStatus }) };
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

/** The monitor looks for due checks once a second. */
export const HEALTH_TICK_MS = 1000;

/**
 * The services with a check whose interval has passed since their last one
 * (never checked: due now). A check is stamped when it finishes, a few ms
 * after the tick that started it, so half a tick of slack keeps an interval of
 * N s at N s rather than N + 1 (as the scanner's isDue does).
 */
export function dueForCheck(state: State, lastCheckedAt: ReadonlyMap<string, number>, now: number, defaultIntervalSec: number): string[] {
  const due: string[] = [];
  for (const s of Object.values(state.services)) {
    // A stopped service's owner is gone: probing it would only argue with reconcile.
    if (!s.healthCheck || s.status === 'stopped') continue;
    const last = lastCheckedAt.get(s.name);
    const interval = (s.healthCheck.intervalSec ?? defaultIntervalSec) * 1000;
    if (last === undefined || now - last >= interval - HEALTH_TICK_MS / 2) due.push(s.name);
  }
  return due.sort(compareNames);
}

/** How a service's check is judged: its own thresholds, else the config's, else Consul's defaults. */
export interface Thresholds {
  failuresBeforeUnhealthy: number;
  successesBeforeHealthy: number;
  /** Run the restart action after this many consecutive failures (and each such many after); null: never. */
  restartAfterFailures: number | null;
}

export const DEFAULT_THRESHOLDS = { failuresBeforeUnhealthy: 2, successesBeforeHealthy: 1 } as const;

export function thresholdsOf(
  check: HealthCheck,
  defaults: Partial<Pick<Thresholds, 'failuresBeforeUnhealthy' | 'successesBeforeHealthy'>>,
): Thresholds {
  return {
    failuresBeforeUnhealthy:
      check.failuresBeforeUnhealthy ?? defaults.failuresBeforeUnhealthy ?? DEFAULT_THRESHOLDS.failuresBeforeUnhealthy,
    successesBeforeHealthy: check.successesBeforeHealthy ?? defaults.successesBeforeHealthy ?? DEFAULT_THRESHOLDS.successesBeforeHealthy,
    restartAfterFailures: check.restartAfterFailures ?? null,
  };
}

/**
 * The status after one more check: a streak of failures (or successes) has to
 * reach its threshold before the status turns, so one refused connection
 * does not flip a healthy service. 'stopped' is reconcile's verdict on the
 * owner process: only a new registration lifts it.
 */
export function judge(status: ServiceStatus, before: Streak, ok: boolean, t: Thresholds): { status: ServiceStatus } & Streak {
  const streak = ok ? { failures: 0, successes: before.successes + 1 } : { failures: before.failures + 1, successes: 0 };
  if (status === 'stopped') return { status, ...streak };
  if (ok && streak.successes >= t.successesBeforeHealthy) return { status: 'healthy', ...streak };
  if (!ok && streak.failures >= t.failuresBeforeUnhealthy) return { status: 'unhealthy', ...streak };
  return { status, ...streak };
}

export interface CheckEffects extends Effects {
  result: HealthResult;
  /** The failures reached restartAfterFailures (or a multiple of it): run the restart action. */
  restart: boolean;
}

/**
 * What one probe outcome changes: the result is always recorded (bounded, per
 * service); a change of status is durable and announced as service_health.
 */
export function checkEffects(state: State, name: string, outcome: ProbeOutcome, now: number, t: Thresholds): CheckEffects | null {
  const s = state.services[name];
  if (!s) return null;
  const log = state.health?.[name];
  const judged = judge(s.status, log ?? { failures: 0, successes: 0 }, outcome.ok, t);
  const entry: HealthEntry = {
    status: judged.status,
    ok: outcome.ok,
    latencyMs: outcome.latencyMs,
    checkedAt: iso(now),
    ...(outcome.error !== undefined && { error: probeErrorText(outcome.error) }),
  };
  const ops: Op[] = [{ op: 'health', name, value: { entry, failures: judged.failures, successes: judged.successes } }];
  const events: EmittedEvent[] = [];
  if (judged.status !== s.status) {
    ops.push({ op: 'service', name, value: { ...s, status: judged.status, updatedAt: iso(now) } }, statusOp(name, judged.status, now));
    events.push({
      type: 'service_health',
      data: {
        service: name,
        status: judged.status,
        previous: s.status,
        ...(entry.latencyMs !== null && { latencyMs: entry.latencyMs }),
        ...(entry.error !== undefined && { error: entry.error }),
      },
    });
  }
  const n = t.restartAfterFailures;
  const restart = !outcome.ok && n !== null && judged.status !== 'stopped' && judged.failures % n === 0;
  const older = (log?.entries ?? []).slice(-(HEALTH_HISTORY - 1)).reverse();
  return { ops, events, restart, result: { service: name, ...entry, history: older } };
}

/** The persisted results of a service as health.get shows them: the latest, with up to `limit` in all, newest first. */
export function healthView(state: State, name: string, limit = HEALTH_HISTORY): HealthResult | null {
  const entries = state.health?.[name]?.entries ?? [];
  const recent = entries.slice(-limit).reverse();
  const [latest, ...history] = recent;
  return latest ? { service: name, ...latest, history } : null;
}

/** The latest result of every service with one, for health.list, service.get and the series. */
export function latestResults(state: State): Map<string, HealthResult> {
  const out = new Map<string, HealthResult>();
  for (const [name, log] of Object.entries(state.health ?? {})) {
    const latest = log.entries[log.entries.length - 1];
    if (latest && state.services[name]?.healthCheck) out.set(name, { service: name, ...latest });
  }
  return out;
}

/** An expectStatus such as "200-399", "200" or "200,204,300-302" as ranges, or what is wrong with it. */
export function parseExpectStatus(text: string): Array<[number, number]> | string {
  const parts = text.split(',').map((p) => p.trim());
  if (parts.length > 32) return 'must have at most 32 codes or ranges';
  const out: Array<[number, number]> = [];
  for (const part of parts) {
    const m = /^(\d{3})(?:-(\d{3}))?$/.exec(part);
    if (!m) return 'must be status codes or ranges such as "200-399" or "200,204"';
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (lo < 100 || hi > 599 || lo > hi) return 'codes must be 100..599, and a range low-high';
    out.push([lo, hi]);
  }
  return out;
}

export const DEFAULT_EXPECT_STATUS = '200-399';

/** Whether an HTTP status is what the check expects (an expectStatus that does not parse expects the default). */
export function statusExpected(expect: string | undefined, status: number): boolean {
  const parsed = parseExpectStatus(expect ?? DEFAULT_EXPECT_STATUS);
  const ranges = typeof parsed === 'string' ? (parseExpectStatus(DEFAULT_EXPECT_STATUS) as Array<[number, number]>) : parsed;
  return ranges.some(([lo, hi]) => status >= lo && status <= hi);
}
