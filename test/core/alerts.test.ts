import { describe, expect, it } from 'vitest';
import type { Conflict } from '../../client/protocol.ts';
import { alertsFor, eventSeverity, type AlertRule } from '../../daemon/core/alerts.ts';
import type { EmittedEvent } from '../../daemon/core/state.ts';

const conflict = (severity: Conflict['severity']): EmittedEvent => ({
  type: 'conflict_detected',
  data: { id: 'c1', port: 1, protocol: 'tcp', type: 'drift', severity, services: [], detectedAt: '', resolvedAt: null, resolution: null },
});
const health = (status: 'healthy' | 'unhealthy' | 'stopped'): EmittedEvent => ({
  type: 'service_health',
  data: { service: 'web', status, previous: 'registered' },
});
const rule = (over: Partial<AlertRule>): AlertRule => ({ on: ['conflict_detected'], command: ['true'], timeoutMs: 1000, ...over });

describe('alertsFor', () => {
  it.each([
    ['a matching type with no minimum', [rule({})], conflict('info'), [0]],
    ['another type', [rule({ on: ['port_assigned'] })], conflict('critical'), []],
    ['below the minimum severity', [rule({ minSeverity: 'warning' })], conflict('info'), []],
    ['at the minimum severity', [rule({ minSeverity: 'warning' })], conflict('warning'), [0]],
    ['above it', [rule({ minSeverity: 'warning' })], conflict('critical'), [0]],
    ['a health transition to unhealthy is critical', [rule({ on: ['service_health'], minSeverity: 'critical' })], health('unhealthy'), [0]],
    ['back to healthy is info', [rule({ on: ['service_health'], minSeverity: 'warning' })], health('healthy'), []],
    ['several alerts', [rule({}), rule({ on: ['service_health'] }), rule({})], conflict('info'), [0, 2]],
    [
      'never for alert_failed, so a failing alert cannot feed itself',
      [rule({ on: ['alert_failed'] })],
      { type: 'alert_failed', data: { alert: 'alerts[0]', error: 'x' } } as EmittedEvent,
      [],
    ],
  ] as const)('%s', (_what, rules, event, want) => {
    expect(alertsFor(rules, event)).toEqual(want);
  });

  it('stopped is a warning', () => expect(eventSeverity(health('stopped'))).toBe('warning'));
});
