// Why a config file failed its schema: one line per key path
// (`ranges[0].end must be a whole number from 1 to 65535, got 70000`), every
// one of them, so a single run shows all that is wrong. Loaded by config.ts
// only after the generated check has said no: it pulls in TypeBox and the
// schema, which a daemon with a good file never loads.
import { Errors, ValueErrorType, type ValueError } from '@sinclair/typebox/errors';
import { choices, clipKey, hasControl, isEnum, pointerKeys, sizeProblem, type SchemaFacts as Schema } from '../core/schema-words.ts';
import { ConfigFileSchema } from './schema.ts';

/** Each problem of `json` against the config file's schema, as `key.path problem`; the first at each path. */
export function schemaProblems(json: unknown): string[] {
  const seen = new Map<string, string>();
  for (const error of Errors(ConfigFileSchema, json)) {
    const at = keyPath(error.path, json);
    if (!seen.has(at)) seen.set(at, `${at} ${problem(error)}`);
  }
  return [...seen.values()];
}

function problem(error: ValueError): string {
  const s = error.schema as Schema;
  const got = `, got ${shown(error.value)}`;
  const size = sizeProblem(error);
  if (size !== undefined) return size;
  switch (error.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return `is required${requirement(s)}`;
    case ValueErrorType.ObjectAdditionalProperties:
      return `is not a known key (expected: ${Object.keys(s.properties ?? {}).join(', ')})`;
    case ValueErrorType.Object:
      return `must be an object ${shape(s)}`;
    case ValueErrorType.Array:
      return s.problem ?? `must be an array${s.items?.type === 'object' ? ` of ${shape(s.items)}` : ''}`;
    case ValueErrorType.String:
      return `${s.problem ?? 'must be a string'}${got}`;
    case ValueErrorType.StringPattern:
      if (hasControl(error)) return 'must not contain control characters';
      return `${s.problem ?? `must match ${s.pattern}`}${got}`;
    case ValueErrorType.Integer:
    case ValueErrorType.IntegerMinimum:
    case ValueErrorType.IntegerMaximum:
      return `${s.problem ?? `must be a whole number from ${s.minimum} to ${s.maximum}`}${got}`;
    case ValueErrorType.Boolean:
      return `must be true or false${got}`;
    case ValueErrorType.Union:
      return `${isEnum(s) ? `must be one of ${choices(s)}` : (s.problem ?? 'is not valid')}${got}`;
    case ValueErrorType.Literal:
      return `must be ${JSON.stringify(s.const)}${got}`;
    default:
      return s.problem ?? 'is not valid';
  }
}

/** What a missing key should have been: its one value, its choices, or its description. */
function requirement(s: Schema): string {
  if (s.const !== undefined) return `: ${JSON.stringify(s.const)}`;
  if (isEnum(s)) return `: one of ${choices(s)}`;
  return s.description ? `: ${s.description}` : '';
}

/** An object's keys as the README writes them: `{ name, start, end, purpose? }`. */
function shape(s: Schema): string {
  const required = new Set(s.required ?? []);
  return `{ ${Object.keys(s.properties ?? {})
    .map((k) => (required.has(k) ? k : `${k}?`))
    .join(', ')} }`;
}

const SHOWN_CHARS = 80;

/** A value as JSON, clipped, with C1 controls escaped too (JSON escapes only C0): it is printed on a terminal. */
function shown(value: unknown): string {
  const json = JSON.stringify(value) ?? String(value);
  const clipped = json.length > SHOWN_CHARS ? `${json.slice(0, SHOWN_CHARS)}…` : json;
  return escapeC1(clipped);
}

function escapeC1(json: string): string {
  return json.replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * A JSON pointer (`/ranges/0/name`) as the key path the README writes
 * (`ranges[0].name`); a key that is not a plain name is quoted (`["log level"]`).
 */
export function keyPath(pointer: string, root: unknown): string {
  let out = '';
  let node: unknown = root;
  for (const key of pointerKeys(pointer)) {
    const clipped = clipKey(key);
    if (Array.isArray(node)) out += `[${key}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(key) && clipped === key) out += out === '' ? key : `.${key}`;
    else out += `[${escapeC1(JSON.stringify(clipped))}]`;
    node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[key] : undefined;
  }
  return out;
}
