// The config file's `conflicts` object: which conflicts the daemon resolves
// by itself (core/auto-resolve.ts) and how often it may move one service.
import { CONFLICT_TYPES, SEVERITIES, type ConflictType, type Severity } from '../../client/protocol.ts';
import { DEFAULT_CONFLICT_POLICY, type AutoResolveRule, type ConflictPolicy } from '../core/auto-resolve.ts';

/** A configuration problem, named by its key path; config.ts turns it into a ConfigError. */
export class ConflictsConfigError extends Error {}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

function rule(raw: unknown, where: string): AutoResolveRule {
  if (!isObject(raw)) throw new ConflictsConfigError(`${where} must be an object { type?, minSeverity?, strategy: "auto" }`);
  const out: AutoResolveRule = { strategy: 'auto' };
  for (const [key, value] of Object.entries(raw)) {
    if (key === 'type') {
      if (!CONFLICT_TYPES.includes(value as ConflictType))
        throw new ConflictsConfigError(`${where}.type must be one of ${CONFLICT_TYPES.join(', ')}, got ${JSON.stringify(value)}`);
      out.type = value as ConflictType;
    } else if (key === 'minSeverity') {
      if (!SEVERITIES.includes(value as Severity))
        throw new ConflictsConfigError(`${where}.minSeverity must be one of ${SEVERITIES.join(', ')}, got ${JSON.stringify(value)}`);
      out.minSeverity = value as Severity;
    } else if (key === 'strategy') {
      if (value !== 'auto') throw new ConflictsConfigError(`${where}.strategy must be "auto", got ${JSON.stringify(value)}`);
    } else {
      throw new ConflictsConfigError(`${where}.${key} is not a known key (type, minSeverity, strategy)`);
    }
  }
  if (!('strategy' in raw)) throw new ConflictsConfigError(`${where}.strategy is required ("auto")`);
  return out;
}

export function conflictPolicy(raw: unknown, file: string): ConflictPolicy {
  if (raw === undefined) return DEFAULT_CONFLICT_POLICY;
  const where = `${file}: conflicts`;
  if (!isObject(raw)) throw new ConflictsConfigError(`${where} must be an object { autoResolve?, maxMovesPerHour? }`);
  const policy: ConflictPolicy = { ...DEFAULT_CONFLICT_POLICY };
  for (const [key, value] of Object.entries(raw)) {
    if (key === 'autoResolve') {
      if (!Array.isArray(value))
        throw new ConflictsConfigError(`${where}.autoResolve must be an array of { type?, minSeverity?, strategy: "auto" }`);
      policy.autoResolve = value.map((r: unknown, i) => rule(r, `${where}.autoResolve[${i}]`));
    } else if (key === 'maxMovesPerHour') {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 1000)
        throw new ConflictsConfigError(`${where}.maxMovesPerHour must be a whole number 0..1000, got ${JSON.stringify(value)}`);
      policy.maxMovesPerHour = value;
    } else {
      throw new ConflictsConfigError(`${where}.${key} is not a known key (autoResolve, maxMovesPerHour)`);
    }
  }
  return policy;
}
