// A bounded copy of a client's params for a log record. Params reach the audit
// before their schema check, so they may be anything up to the 1 MiB line cap:
// a record keeps their shape and the start of each value, never all of it, or
// one caller could write megabytes of log per request.

/** How much of a value a record keeps. */
export const CLIP = { chars: 200, entries: 16, keys: 32, depth: 4 } as const;

/**
 * Strings cut to CLIP.chars, arrays to their first CLIP.entries (then a note
 * of how many there were), objects to CLIP.keys keys, nesting to CLIP.depth.
 */
export function clip(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return value.length > CLIP.chars ? `${value.slice(0, CLIP.chars)}… (${value.length} chars)` : value;
  if (value === null || typeof value !== 'object') return value;
  if (depth >= CLIP.depth) return Array.isArray(value) ? `[array of ${value.length}]` : '[object]';
  if (Array.isArray(value)) {
    const head = value.slice(0, CLIP.entries).map((v) => clip(v, depth + 1));
    return value.length > CLIP.entries ? [...head, `… (${value.length} entries)`] : head;
  }
  const out: Record<string, unknown> = {};
  let n = 0;
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    if (n++ === CLIP.keys) {
      out['…'] = `${Object.keys(value).length} keys`;
      break;
    }
    out[clip(key) as string] = clip((value as Record<string, unknown>)[key], depth + 1);
  }
  return out;
}
