// The config file's `alerts` list: which events set off a command or a
// webhook. The operator writes this file, so a command and a URL are trusted
// as written; only their shape is checked here.
import { EVENT_TYPES, SEVERITIES } from '../../client/protocol.ts';
import { DEFAULT_ALERT_TIMEOUT_MS, type AlertRule } from '../core/alerts.ts';
import { ConfigError, int, keyed, list, oneOf } from './readers.ts';

const SHAPE = '{ on: [eventType], minSeverity?, command?: [argv], webhook?: url, timeoutMs? }';

function strings(value: unknown, where: string, what: string): string[] {
  if (!Array.isArray(value) || value.length === 0 || value.some((a) => typeof a !== 'string'))
    throw new ConfigError(`${where} must be ${what}`);
  return value as string[];
}

function alert(raw: Record<string, unknown>, where: string): AlertRule {
  const rule = keyed<AlertRule>(
    raw,
    where,
    { on: [], timeoutMs: DEFAULT_ALERT_TIMEOUT_MS },
    {
      on: (v, w) => strings(v, w, `a non-empty array of event types (${EVENT_TYPES.join(', ')})`).map((t) => oneOf(t, w, EVENT_TYPES)),
      minSeverity: (v, w) => oneOf(v, w, SEVERITIES),
      command: (v, w) => strings(v, w, 'a non-empty array of strings (the program and its arguments; no shell)'),
      webhook: (v, w) => {
        if (typeof v !== 'string' || !/^https?:\/\/\S+$/.test(v)) throw new ConfigError(`${w} must be an http:// or https:// URL`);
        return v;
      },
      timeoutMs: (v, w) => int(v, w, 1, 300_000),
    },
  );
  if (rule.on.length === 0) throw new ConfigError(`${where}.on is required: a non-empty array of event types`);
  if (rule.command === undefined && rule.webhook === undefined) throw new ConfigError(`${where} needs a command or a webhook`);
  return rule;
}

export function alertRules(raw: unknown, file: string): AlertRule[] {
  return list(raw, `${file}: alerts`, SHAPE).map((r, i) => alert(r, `${file}: alerts[${i}]`));
}
