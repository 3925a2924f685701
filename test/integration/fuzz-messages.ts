// The fuzz test's messages: random and mutated JSON-RPC lines from a seeded
// PRNG, so that a failing run is repeated exactly by its seed. Every call
// that could change the registry carries at least one value of the wrong
// type in a field it sends, so that a daemon that validates correctly
// changes nothing, and one that lets it through is caught by the state check.

/** mulberry32: a tiny seeded PRNG. */
export function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What exists before the fuzz starts: mutated calls aim at it. */
export interface Anchors {
  service: string;
  port: number;
  reserved: number;
}

export interface FuzzMessage {
  kind: string;
  /** One line, without its newline. */
  bytes: Buffer;
  /** The id of the one reply this line is owed, when that is certain. */
  expectId?: string;
}

type Params = Record<string, unknown>;
type Template = { required: string; params: (a: Anchors) => Params };

/** Methods that change the registry (or run a scan or probes): always sent broken. */
const MUTATING: Record<string, Template> = {
  'service.register': {
    required: 'name',
    params: (a) => ({ name: a.service, port: a.port, tags: ['x'], protocol: 'tcp', exclusive: true }),
  },
  'service.setPort': { required: 'port', params: (a) => ({ name: a.service, port: a.reserved }) },
  'service.unregister': { required: 'name', params: (a) => ({ name: a.service }) },
  'service.restart': { required: 'name', params: (a) => ({ name: a.service }) },
  'port.allocate': { required: 'service', params: (a) => ({ service: a.service, preferred: a.port, ttlSec: 60, range: 'dev' }) },
  'port.release': { required: 'port', params: (a) => ({ port: a.port, service: a.service }) },
  'port.reserve': { required: 'port', params: (a) => ({ port: a.reserved, for: 'db', reason: 'fuzz', ttlSec: 30 }) },
  'conflict.resolve': { required: 'strategy', params: (a) => ({ service: a.service, strategy: 'reassign', newPort: a.reserved }) },
  'token.rotate': { required: 'service', params: (a) => ({ service: a.service }) },
  'health.check': { required: 'service', params: (a) => ({ service: a.service }) },
};

/** Methods that only read: sent with any params, valid ones included. */
const READS: Record<string, (a: Anchors) => Params> = {
  'service.list': () => ({ status: 'registered', tag: 'x' }),
  'service.get': (a) => ({ name: a.service }),
  'port.list': () => ({ state: 'assigned', range: 'dev' }),
  'port.get': (a) => ({ port: a.port, protocol: 'tcp' }),
  'port.check': (a) => ({ port: a.port, protocol: 'udp', host: '127.0.0.1' }),
  'port.suggest': (a) => ({ count: 3, range: 'dev', near: a.port }),
  'port.history': (a) => ({ service: a.service, port: a.port, limit: 5, since: '2025-01-01T00:00:00Z' }),
  'range.list': () => ({}),
  'conflict.list': () => ({ open: true }),
  'conflict.history': () => ({ limit: 3, since: '2025-01-01T00:00:00Z' }),
  'conflict.plan': () => ({}),
  'health.list': () => ({}),
  'health.get': (a) => ({ service: a.service, limit: 2 }),
  'stats.ports': () => ({}),
  'stats.services': () => ({}),
  'stats.conflicts': () => ({}),
  'stats.series': (a) => ({ service: a.service }),
  'auth.whoami': () => ({}),
  'daemon.status': () => ({}),
  'daemon.ping': () => ({}),
  'daemon.config': () => ({}),
  'events.unsubscribe': () => ({ types: ['port_allocated'] }),
};

// Marks a token to be written into the line as is: JSON.stringify cannot write 1e400.
const raw = (text: string) => `@@RAW:${text}@@`;
const unraw = (json: string) => json.replace(/"@@RAW:((?:[^"\\]|\\.)*)@@"/g, (_, inner: string) => JSON.parse(`"${inner}"`) as string);

const deep = (open: string, close: string, n: number) => open.repeat(n) + close.repeat(n);
const HUGE = [raw('1e400'), raw('-1e400'), raw('123456789012345678901234567890'), raw('1e-400'), 1e308, -1e308, 2 ** 53 + 2, -(2 ** 63)];
const WEIRD_STRINGS = [
  '',
  ' ',
  'x'.repeat(5000),
  'a\u0000b',
  '\u001b[31mred',
  '\ud800',
  '__proto__',
  'constructor',
  '../../etc',
  'ünïcödé',
  '\u202e',
];

/** Numbers no count, port or duration takes: negative, fractional, beyond any range. */
const NEVER_NUMBERS = [-1, 0.5, 1e308, -1e308, 2 ** 53 + 2, raw('1e400'), raw('-1e400'), raw('123456789012345678901234567890')];
const PORT_FIELDS = ['port', 'preferred', 'newPort'];

/** A value of some other JSON type than `like`, or a number `field` can never take. */
function wrongType(r: () => number, like: unknown, field: string): unknown {
  const pool: unknown[] =
    typeof like === 'string'
      ? [0, 1, -1, true, false, null, [], {}, [like], { value: like }, ...HUGE]
      : typeof like === 'number'
        ? [String(like), true, null, [], {}, [like], { value: like }, ...NEVER_NUMBERS, ...(PORT_FIELDS.includes(field) ? [0, 65536] : [])]
        : typeof like === 'boolean'
          ? [0, 1, 'true', '', null, [], {}, [like]]
          : // An array of strings (tags).
            [1, 'x', true, null, {}, [1], [null], [['x']], [{}]];
  return pick(r, pool);
}

/** Anything: sometimes valid for the field, sometimes not. */
function anyValue(r: () => number): unknown {
  const roll = r();
  if (roll < 0.15) return pick(r, HUGE);
  if (roll < 0.3) return pick(r, WEIRD_STRINGS);
  if (roll < 0.35) return raw(deep('[', ']', 200 + Math.floor(r() * 5_000)));
  if (roll < 0.4) return raw(`${'{"a":'.repeat(2000)}1${'}'.repeat(2000)}`);
  return pick(r, [
    null,
    true,
    false,
    0,
    -1,
    1,
    80,
    65535,
    1.5,
    'tcp',
    'udp',
    'dev',
    [],
    {},
    ['port_allocated'],
    { type: 'http' },
    ['x', 1],
  ]);
}

const FIELDS = [
  'name',
  'port',
  'service',
  'protocol',
  'host',
  'pid',
  'range',
  'preferred',
  'ttlSec',
  'strategy',
  'tags',
  'healthCheck',
  'restart',
  'token',
  'types',
  'sinceSeq',
  'limit',
  'since',
  'count',
  'near',
  'zz',
  '__proto__',
];

/** Applies 0-3 random changes: set, delete, or add a field. */
function mutate(r: () => number, params: Params, keep?: string): Params {
  const out = { ...params };
  for (let n = Math.floor(r() * 4); n > 0; n--) {
    const keys = Object.keys(out).filter((k) => k !== keep);
    const roll = r();
    if (roll < 0.3 && keys.length > 0) delete out[pick(r, keys)];
    else set(out, roll < 0.7 && keys.length > 0 ? pick(r, keys) : pick(r, FIELDS), anyValue(r));
  }
  return out;
}

/** An own property, even "__proto__" (which plain assignment would take as the prototype). */
function set(o: Params, key: string, value: unknown): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

function request(id: unknown, method: unknown, params?: unknown): string {
  const msg: Record<string, unknown> = { jsonrpc: '2.0', id, method };
  if (params !== undefined) msg.params = params;
  return unraw(JSON.stringify(msg));
}

/** A mutating call with a value of the wrong type in one of its fields, after random changes to the others. */
function brokenMutation(r: () => number, a: Anchors, id: string): string {
  const method = pick(r, Object.keys(MUTATING));
  const t = MUTATING[method]!;
  const base = t.params(a);
  // Mostly the required field; else another field of the template, so that validation past the first field is reached.
  const broken = r() < 0.6 ? t.required : pick(r, Object.keys(base));
  const params = mutate(r, base, broken);
  params[broken] = wrongType(r, base[broken], broken);
  // As a notification now and then: it must be refused as silently as it would be answered.
  return r() < 0.1 ? unraw(JSON.stringify({ jsonrpc: '2.0', method, params })) : request(id, method, params);
}

function mutatedRead(r: () => number, a: Anchors, id: string): string {
  const method = pick(r, Object.keys(READS));
  return request(id, method, mutate(r, READS[method]!(a)));
}

function garbage(r: () => number): Buffer {
  const bytes = Buffer.alloc(1 + Math.floor(r() * 300));
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(r() * 256);
  return Buffer.from(bytes.filter((b) => b !== 0x0a));
}

/** A request with invalid UTF-8 (a lone continuation byte, an overlong slash, a surrogate, 0xff) somewhere in it. */
function badUtf8(r: () => number, a: Anchors, id: string): Buffer {
  const bad = pick(r, [[0x80], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xff], [0xf4, 0x90, 0x80, 0x80], [0xc3]]);
  const text = Buffer.from(request(id, 'service.get', { name: a.service }));
  const at = Math.floor(r() * text.length);
  return Buffer.concat([text.subarray(0, at), Buffer.from(bad), text.subarray(at)]);
}

/** A valid envelope around one broken part: jsonrpc, id, method or params. */
function badEnvelope(r: () => number, id: string): string {
  const good = { jsonrpc: '2.0', id, method: 'daemon.ping', params: {} } as Record<string, unknown>;
  const field = pick(r, ['jsonrpc', 'id', 'method', 'params']);
  if (r() < 0.2) delete good[field];
  else good[field] = pick(r, [...HUGE, null, true, 2, '1.0', '', [], {}, [1], { a: 1 }, raw(deep('[', ']', 5000)), 'x'.repeat(2000)]);
  return unraw(JSON.stringify(good));
}

function batch(r: () => number, a: Anchors, next: () => string): string {
  const roll = r();
  if (roll < 0.1) return '[]';
  if (roll < 0.2) return `[${deep('[', ']', 1000)}]`;
  const items: string[] = [];
  for (let n = 1 + Math.floor(r() * (roll < 0.3 ? 100 : 8)); n > 0; n--) {
    const item = r();
    if (item < 0.3) items.push(pick(r, ['1', '"x"', 'null', 'true', '{}', '[]', raw('1e400').slice(6, -2)]));
    else if (item < 0.6) items.push(brokenMutation(r, a, next()));
    else if (item < 0.8) items.push(mutatedRead(r, a, next()));
    else items.push(badEnvelope(r, next()));
  }
  return `[${items.join(',')}]`;
}

function unknownMethod(r: () => number, id: string): string {
  const name = pick(r, [
    'constructor',
    'toString',
    '__proto__',
    'hasOwnProperty',
    'valueOf',
    'rpc.',
    'service',
    'service.',
    'SERVICE.LIST',
    'port.allocate ',
    ' daemon.ping',
    'x'.repeat(3000),
    '\u0000',
    'daemon.ping\u0000',
    'events.emit',
    'rpc.discover.x',
  ]);
  return request(id, name, r() < 0.5 ? {} : undefined);
}

/** The `n`th message of the run. Ids are strings of our own, so replies can be matched. */
export function message(r: () => number, a: Anchors, n: number): FuzzMessage {
  let sub = 0;
  const id = `f${n}`;
  const next = () => `f${n}.${sub++}`;
  const roll = r();
  const line = (kind: string, text: string, expectId?: string): FuzzMessage => ({ kind, bytes: Buffer.from(text), expectId });
  if (roll < 0.3) {
    const text = brokenMutation(r, a, id);
    return line('mutation', text, text.includes(`"id":"${id}"`) ? id : undefined);
  }
  if (roll < 0.45) return line('read', mutatedRead(r, a, id), id);
  if (roll < 0.55) return { kind: 'garbage', bytes: garbage(r) };
  if (roll < 0.6) return { kind: 'utf8', bytes: badUtf8(r, a, id) };
  if (roll < 0.7) return line('envelope', badEnvelope(r, id));
  if (roll < 0.8) return line('batch', batch(r, a, next));
  if (roll < 0.87) return line('unknown', unknownMethod(r, id), id);
  if (roll < 0.92)
    return line(
      'scalar',
      pick(r, ['1', '"x"', 'null', 'true', '-0', '1e400', '[1,2]', '{', '}', '"', '\\', '{"jsonrpc":"2.0"', '\t \r', '\u0000\u0000']),
    );
  // Few: each is 100-200 KB, and what they test (no stack overflow) needs no volume.
  if (roll < 0.925)
    return line(
      'deep',
      pick(r, ['['.repeat(100_000), '{"a":'.repeat(50_000), deep('[', ']', 100_000), `${'{"a":'.repeat(30_000)}1${'}'.repeat(30_000)}`]),
    );
  return line(
    'params',
    request(id, 'daemon.ping', pick(r, [raw('"x"'), raw('1'), raw('true'), raw('[1,2]'), raw(deep('[', ']', 10_000))])),
  );
}

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)]!;
}
