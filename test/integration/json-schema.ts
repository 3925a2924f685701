// A small JSON Schema checker, written apart from TypeBox, for the keywords
// the rpc.discover document uses. The tests check the published document
// with it, so they test the JSON a client reads, not the objects the daemon
// compiled it from.
type Schema = Record<string, unknown>;

function typeOk(type: unknown, v: unknown): boolean {
  switch (type) {
    case 'object':
      return typeof v === 'object' && v !== null && !Array.isArray(v);
    case 'array':
      return Array.isArray(v);
    case 'string':
      return typeof v === 'string';
    case 'integer':
      return Number.isInteger(v);
    case 'number':
      return typeof v === 'number' && Number.isFinite(v);
    case 'boolean':
      return typeof v === 'boolean';
    case 'null':
      return v === null;
    default:
      return true;
  }
}

/** Whether `v` is valid against `s`. */
export function valid(s: Schema, v: unknown): boolean {
  if ('const' in s && s.const !== v) return false;
  if (Array.isArray(s.anyOf) && !(s.anyOf as Schema[]).some((x) => valid(x, v))) return false;
  if (s.type !== undefined && !typeOk(s.type, v)) return false;
  if (typeof v === 'number') {
    if (typeof s.minimum === 'number' && v < s.minimum) return false;
    if (typeof s.maximum === 'number' && v > s.maximum) return false;
    if (typeof s.multipleOf === 'number' && v % s.multipleOf !== 0) return false;
  }
  if (typeof v === 'string') {
    if (typeof s.minLength === 'number' && v.length < s.minLength) return false;
    if (typeof s.maxLength === 'number' && v.length > s.maxLength) return false;
    if (typeof s.pattern === 'string' && !new RegExp(s.pattern, 'u').test(v)) return false;
  }
  if (Array.isArray(v)) {
    if (typeof s.minItems === 'number' && v.length < s.minItems) return false;
    if (typeof s.maxItems === 'number' && v.length > s.maxItems) return false;
    if (s.items && !v.every((x) => valid(s.items as Schema, x))) return false;
  }
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    const obj = v as Record<string, unknown>;
    const props = (s.properties ?? {}) as Record<string, Schema>;
    const patterns = Object.entries((s.patternProperties ?? {}) as Record<string, Schema>).map(
      ([p, x]) => [new RegExp(p, 'u'), x] as const,
    );
    if (typeof s.maxProperties === 'number' && Object.keys(obj).length > s.maxProperties) return false;
    for (const key of (s.required ?? []) as string[]) if (!Object.hasOwn(obj, key)) return false;
    for (const [key, value] of Object.entries(obj)) {
      const own = props[key];
      const matched = patterns.filter(([re]) => re.test(key));
      if (own && !valid(own, value)) return false;
      if (matched.some(([, x]) => !valid(x, value))) return false;
      if (!own && matched.length === 0 && s.additionalProperties === false) return false;
    }
  }
  return true;
}

/** A method's params as one object schema, from its by-name param list. */
export function paramsSchema(method: { params: Array<{ name: string; required: boolean; schema: Schema }> }): Schema {
  return {
    type: 'object',
    properties: Object.fromEntries(method.params.map((p) => [p.name, p.schema])),
    required: method.params.filter((p) => p.required).map((p) => p.name),
    additionalProperties: false,
  };
}
