// The config file's `alerts` list: which events set off a command or a
// webhook. The operator writes this file, so a command and a URL are trusted
// as written; only their shape is checked here.
import { EVENT_TYPES, SEVERITIES, type EventType, type Severity } from '../../client/protocol.ts';
import { DEFAULT_ALERT_TIMEOUT_MS, type AlertRule } from '../core/alerts.ts';

/** A configuration problem, named by its key path; config.ts turns it into a ConfigError. */
export class AlertsConfigError extends Error {}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const SHAPE = '{ on: [eventType], minSeverity?, command?: [argv], webhook?: url, timeoutMs? }';

function alert(raw: unknown, where: string): AlertRule {
  if (!isObject(raw)) throw new AlertsConfigError(`${where} must be an object ${SHAPE}`);
  const known = ['on', 'minSeverity', 'command', 'webhook', 'timeoutMs'];
  const unknown = Object.keys(raw).find((k) => !known.includes(k));
  if (unknown !== undefined) throw new AlertsConfigError(`${where}.${unknown} is not a known key (${known.join(', ')})`);
  const { on, minSeverity, command, webhook, timeoutMs } = raw;
  if (!Array.isArray(on) || on.length === 0 || on.some((t) => !EVENT_TYPES.includes(t as EventType))) {
    throw new AlertsConfigError(`${where}.on must be a non-empty array of event types (${EVENT_TYPES.join(', ')})`);
  }
  if (minSeverity !== undefined && !SEVERITIES.includes(minSeverity as Severity))
    throw new AlertsConfigError(`${where}.minSeverity must be one of ${SEVERITIES.join(', ')}`);
  if (command !== undefined && (!Array.isArray(command) || command.length === 0 || command.some((a) => typeof a !== 'string'))) {
    throw new AlertsConfigError(`${where}.command must be a non-empty array of strings (the program and its arguments; no shell)`);
  }
  if (webhook !== undefined && (typeof webhook !== 'string' || !/^https?:\/\/\S+$/.test(webhook)))
    throw new AlertsConfigError(`${where}.webhook must be an http:// or https:// URL`);
  if (command === undefined && webhook === undefined) throw new AlertsConfigError(`${where} needs a command or a webhook`);
  if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || !Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 300_000)) {
    throw new AlertsConfigError(`${where}.timeoutMs must be a whole number 1..300000`);
  }
  return {
    on: on as EventType[],
    ...(minSeverity !== undefined && { minSeverity: minSeverity as Severity }),
    ...(command !== undefined && { command: command as string[] }),
    ...(webhook !== undefined && { webhook: webhook as string }),
    timeoutMs: (timeoutMs as number | undefined) ?? DEFAULT_ALERT_TIMEOUT_MS,
  };
}

export function alertRules(raw: unknown, file: string): AlertRule[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw new AlertsConfigError(`${file}: alerts must be an array of ${SHAPE}`);
  return raw.map((r: unknown, i) => alert(r, `${file}: alerts[${i}]`));
}
