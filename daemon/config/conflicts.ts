// The config file's `conflicts` object: which conflicts the daemon resolves
// by itself (core/auto-resolve.ts) and how often it may move one service.
import { CONFLICT_TYPES, SEVERITIES } from '../../client/protocol.ts';
import { DEFAULT_CONFLICT_POLICY, type AutoResolveRule, type ConflictPolicy } from '../core/auto-resolve.ts';
import { ConfigError, int, keyed, list, oneOf } from './readers.ts';

const RULE = '{ type?, minSeverity?, strategy: "auto" }';

function rule(raw: Record<string, unknown>, where: string): AutoResolveRule {
  if (raw.strategy === undefined) throw new ConfigError(`${where}.strategy is required ("auto")`);
  return keyed<AutoResolveRule>(
    raw,
    where,
    { strategy: 'auto' },
    {
      type: (v, w) => oneOf(v, w, CONFLICT_TYPES),
      minSeverity: (v, w) => oneOf(v, w, SEVERITIES),
      strategy: (v, w) => oneOf(v, w, ['auto'] as const),
    },
  );
}

export function conflictPolicy(raw: unknown, file: string): ConflictPolicy {
  return keyed<ConflictPolicy>(raw, `${file}: conflicts`, DEFAULT_CONFLICT_POLICY, {
    autoResolve: (v, w) => list(v, w, RULE).map((r, i) => rule(r, `${w}[${i}]`)),
    maxMovesPerHour: (v, w) => int(v, w, 0, 1000),
  });
}
