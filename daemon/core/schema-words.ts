// What the two wordings of a failed schema check share: the params' -32602
// (rpc/schema-errors.ts) and the config file's problems (config/problems.ts).
// Both read the same facts of a schema and the same JSON-pointer paths, and
// say the same about lengths and sizes. Loaded only with them, after a check
// has failed.
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors';
import { CONTROL } from '../../client/schema/common.ts';

/** The parts of a JSON Schema (plus our `problem` sentence) that a wording reads. */
export interface SchemaFacts {
  type?: string;
  const?: unknown;
  anyOf?: SchemaFacts[];
  items?: SchemaFacts;
  properties?: Record<string, SchemaFacts>;
  patternProperties?: Record<string, SchemaFacts>;
  required?: string[];
  pattern?: string;
  problem?: string;
  description?: string;
  minimum?: number;
  maximum?: number;
  multipleOf?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  maxProperties?: number;
}

/** Longer keys are clipped where a path names them: a key may be any length. */
export const KEY_CHARS = 64;

export function clipKey(key: string): string {
  return key.length > KEY_CHARS ? `${key.slice(0, KEY_CHARS)}…` : key;
}

/** The keys of a JSON pointer (`/restart/env/A~1B` is restart, env, A/B). */
export function pointerKeys(pointer: string): string[] {
  return pointer
    .split('/')
    .slice(1)
    .map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** A union of string literals: how the enumerations are written. */
export function isEnum(schema: SchemaFacts): boolean {
  return Array.isArray(schema.anyOf) && schema.anyOf.length > 0 && schema.anyOf.every((v) => typeof v.const === 'string');
}

export function choices(schema: SchemaFacts): string {
  return (schema.anyOf ?? []).map((v) => JSON.stringify(v.const)).join(', ');
}

/**
 * The sentence both wordings give for a size or a string's content, or
 * undefined for the kinds each words its own way (numbers, types, keys).
 */
export function sizeProblem(error: ValueError): string | undefined {
  const s = error.schema as SchemaFacts;
  switch (error.type) {
    case ValueErrorType.StringMaxLength:
      return `must be at most ${s.maxLength} characters`;
    case ValueErrorType.StringMinLength:
      return s.minLength === 1 ? 'must not be empty' : `must be at least ${s.minLength} characters`;
    case ValueErrorType.ArrayMaxItems:
      return `must have at most ${s.maxItems} entries`;
    case ValueErrorType.ArrayMinItems:
      return s.problem ?? (s.minItems === 1 ? 'must not be empty' : `must have at least ${s.minItems} entries`);
    default:
      return undefined;
  }
}

/** Whether a pattern failed only because the string holds control characters (every text pattern bans them). */
export function hasControl(error: ValueError): boolean {
  return typeof error.value === 'string' && CONTROL.test(error.value);
}
