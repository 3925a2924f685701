// Which alerts an event sets off. Pure: the shell (daemon/act/alerts.ts) runs them.
import { SEVERITIES, type EventType, type Severity } from '../../client/protocol.ts';
import type { EmittedEvent } from './state.ts';

/** One configured alert (config `alerts`). */
export interface AlertRule {
  on: EventType[];
  minSeverity?: Severity;
  command?: string[];
  webhook?: string;
  timeoutMs: number;
}

export const DEFAULT_ALERT_TIMEOUT_MS = 5000;

/**
 * How bad an event is: a conflict's own severity; a health transition to
 * unhealthy is critical, to stopped a warning; anything else is info.
 */
export function eventSeverity(e: EmittedEvent): Severity {
  if (e.type === 'conflict_detected' || e.type === 'conflict_resolved') return e.data.severity;
  if (e.type === 'service_health') return e.data.status === 'unhealthy' ? 'critical' : e.data.status === 'stopped' ? 'warning' : 'info';
  if (e.type === 'service_restarted') return e.data.ok ? 'info' : 'warning';
  return 'info';
}

/** The indexes of the alerts `e` sets off. An alert_failed never sets one off: a failing alert must not feed itself. */
export function alertsFor(rules: readonly AlertRule[], e: EmittedEvent): number[] {
  if (e.type === 'alert_failed') return [];
  const severity = SEVERITIES.indexOf(eventSeverity(e));
  const out: number[] = [];
  rules.forEach((r, i) => {
    if (!r.on.includes(e.type)) return;
    if (r.minSeverity !== undefined && severity > SEVERITIES.indexOf(r.minSeverity)) return;
    out.push(i);
  });
  return out;
}
