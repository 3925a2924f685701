// Turns why a value failed its schema into the -32602 a client reads:
// `field`, the dotted path of the value (`healthCheck.url`), and `problem`, a
// sentence about it. Runs only after the compiled check has said no, so its
// cost is never on the path of a good request. Nothing from the value is
// echoed but key names, clipped: a value may be megabytes or nested
// thousands deep.
import { ValueErrorType, type ValueError, type ValueErrorIterator } from '@sinclair/typebox/errors';
import { choices, clipKey, hasControl, isEnum, pointerKeys, sizeProblem, type SchemaFacts as Schema } from '../core/schema-words.ts';

export interface Refusal {
  field: string;
  problem: string;
}

/** How many of an iterator's errors are looked at to pick the one to report. */
const LOOK_AHEAD = 16;

/** The one error to report from a failed check: an unknown key first (a typo explains what seems missing), else the first. */
export function explain(errors: ValueErrorIterator, root: unknown): Refusal {
  const error = pick(errors);
  if (!error) return { field: 'params', problem: 'are not valid' };
  return describe(error, root);
}

function pick(errors: ValueErrorIterator): ValueError | undefined {
  let first: ValueError | undefined;
  let n = 0;
  for (const e of errors) {
    if (e.type === ValueErrorType.ObjectAdditionalProperties) return e;
    first ??= e;
    if (++n >= LOOK_AHEAD) break;
  }
  return first;
}

function describe(error: ValueError, root: unknown): Refusal {
  const schema = error.schema as Schema;
  if (error.type === ValueErrorType.Union && !isEnum(schema)) return union(error, root);
  const { field, entry, parent } = locate(error.path, root);
  const at = (problem: string) => ({ field, problem: entry === null ? problem : `entry ${entry} ${problem}` });
  const size = sizeProblem(error);
  if (size !== undefined) return at(size);
  switch (error.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return at(isEnum(schema) ? `is required: one of ${choices(schema)}` : 'is required');
    case ValueErrorType.ObjectAdditionalProperties: {
      // A record (restart.env) names its keys by a pattern; any other object lists the keys it knows.
      if (schema.patternProperties) return { field: parent, problem: schema.problem ?? 'has a name that is not allowed' };
      const known = Object.keys(schema.properties ?? {}).join(', ') || 'none';
      return parent === ''
        ? { field, problem: `is not a parameter of this method (expected: ${known})` }
        : { field, problem: `is not a field of ${parent} (expected: ${known})` };
    }
    case ValueErrorType.Object:
      // A record's `problem` is about its keys (restart.env's names): a value that is no object at all needs its own sentence.
      if (schema.patternProperties) return at('must be an object of NAME: "value"');
      return at(schema.problem ?? 'must be an object');
    case ValueErrorType.ObjectMaxProperties:
      return at(`must have at most ${schema.maxProperties} entries`);
    case ValueErrorType.StringPattern:
      if (hasControl(error)) return at('must not contain control characters');
      return at(schema.problem ?? `must match ${schema.pattern}`);
    case ValueErrorType.Integer:
    case ValueErrorType.IntegerMinimum:
    case ValueErrorType.IntegerMaximum:
    case ValueErrorType.Number:
    case ValueErrorType.NumberMinimum:
    case ValueErrorType.NumberMaximum:
      return at(wholeNumber(schema));
    case ValueErrorType.IntegerMultipleOf:
      return at(schema.problem ?? `must be a multiple of ${schema.multipleOf}`);
    case ValueErrorType.Boolean:
      return at('must be true or false');
    case ValueErrorType.Union:
      return at(`must be one of ${choices(schema)}`);
    case ValueErrorType.Literal:
      return at(`must be ${JSON.stringify(schema.const)}`);
    default:
      return at(schema.problem ?? `must be ${kind(schema)}`);
  }
}

/**
 * A union of objects (healthCheck, restart) failed: report the error of the
 * variant the value meant. That is the one whose literal tag it carries
 * (`type: "http"`), else the first whose required keys it has; a value that
 * means none gets the union's own problem.
 */
function union(error: ValueError, root: unknown): Refusal {
  const variants = ((error.schema as Schema).anyOf ?? []) as Schema[];
  const value = error.value;
  const { field } = locate(error.path, root);
  const whole = { field, problem: (error.schema as Schema).problem ?? `must be one of: ${variants.map(kind).join(', ')}` };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return whole;
  const obj = value as Record<string, unknown>;
  const objects = variants.map((s, i) => [s, i] as const).filter(([s]) => s.type === 'object');
  const tag = tagKey(objects.map(([s]) => s));
  let chosen: number | undefined;
  if (tag !== undefined) {
    chosen = objects.find(([s]) => s.properties![tag]!.const === obj[tag])?.[1];
    if (chosen === undefined) {
      const values = objects.map(([s]) => JSON.stringify(s.properties![tag]!.const)).join(', ');
      return { field: `${field}.${tag}`, problem: obj[tag] === undefined ? `is required: one of ${values}` : `must be one of ${values}` };
    }
  } else {
    chosen = objects.find(([s]) => (s.required ?? []).every((k) => Object.hasOwn(obj, k)))?.[1];
  }
  const inner = chosen === undefined ? undefined : pick(error.errors[chosen]!);
  return inner ? describe(inner, root) : whole;
}

/** The key every object variant tags with a literal (`type`), if there is one. */
function tagKey(objects: Schema[]): string | undefined {
  const first = objects[0]?.properties ?? {};
  return Object.keys(first).find((k) => objects.every((s) => s.properties?.[k]?.const !== undefined));
}

/**
 * The dotted field of a JSON-pointer path, with the index of an array entry
 * (`tags/3` is field `tags`, entry 3) and the field of the object holding it.
 */
function locate(path: string, root: unknown): { field: string; entry: number | null; parent: string } {
  const keys = pointerKeys(path);
  const names: string[] = [];
  let node: unknown = root;
  for (const key of keys) {
    if (Array.isArray(node)) return { field: names.join('.'), entry: Number(key), parent: names.slice(0, -1).join('.') };
    names.push(clipKey(key));
    node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[key] : undefined;
  }
  return { field: names.join('.'), entry: null, parent: names.slice(0, -1).join('.') };
}

function wholeNumber(schema: Schema): string {
  const { minimum: min, maximum: max } = schema;
  if (min !== undefined && max !== undefined) return `must be a whole number ${min}..${max}`;
  return min !== undefined ? `must be a whole number >= ${min}` : 'must be a whole number';
}

function kind(schema: Schema): string {
  switch (schema.type) {
    case 'object':
      return 'an object';
    case 'array':
      return 'an array';
    case 'null':
      return 'null';
    case 'integer':
      return 'a whole number';
    default:
      return schema.type === undefined ? 'valid' : `a ${schema.type}`;
  }
}
