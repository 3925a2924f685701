// The config file's schema (daemon/config/schema.ts): the generated check the
// daemon runs agrees with it, and a refused file's problems name every key
// path, at any depth, all at once.
import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { buildConfig, ConfigError } from '../../daemon/config/config.ts';
import { fitsConfigSchema } from '../../daemon/config/check.generated.ts';
import { keyPath, schemaProblems } from '../../daemon/config/problems.ts';
import { ConfigFileSchema } from '../../daemon/config/schema.ts';

const user = { platform: 'linux', uid: 1000, home: '/home/ada' };

/** A file that sets every key the schema knows, each to a good value. */
const FULL = {
  ranges: [{ name: 'web', start: 8000, end: 8099, purpose: 'HTTP services' }],
  reservations: [{ port: 5432, protocol: 'tcp', for: 'postgres', reason: 'database' }],
  scanIntervalSec: 10,
  healthIntervalSec: 30,
  logLevel: 'info',
  sync: 'ack',
  groupAccess: false,
  avoidEphemeral: true,
  socket: { group: 'portmand', mode: '0660' },
  health: { allowRemote: false, failuresBeforeUnhealthy: 2, successesBeforeHealthy: 1 },
  access: { adminGroup: 'wheel' },
  limits: { mutationsPerSec: 50, burst: 100, maxConnections: 64, maxConnectionsPerUser: 8, maxPortsPerUser: 100, idleTimeoutSec: 5 },
  conflicts: { autoResolve: [{ type: 'drift', minSeverity: 'warning', strategy: 'auto' }], maxMovesPerHour: 3 },
  alerts: [{ on: ['conflict_detected'], minSeverity: 'critical', command: ['true'], webhook: 'https://hooks.example/x', timeoutMs: 100 }],
  portserver: { address: '/run/portmand/portserver.sock' },
};

/** Every key path of the schema, arrays entered at [0]: `ranges[0].name`, `socket.group`, ... */
function keyPaths(schema: Record<string, unknown>, prefix = ''): string[] {
  const s = schema as { type?: string; properties?: Record<string, Record<string, unknown>>; items?: Record<string, unknown> };
  if (s.type === 'array' && s.items?.type === 'object') return keyPaths(s.items, `${prefix}[0]`);
  if (s.type !== 'object') return [];
  return Object.entries(s.properties ?? {}).flatMap(([key, inner]) => {
    const at = prefix === '' ? key : `${prefix}.${key}`;
    return [at, ...keyPaths(inner, at)];
  });
}

/** A copy of FULL with the value at `path` (as keyPaths writes it) replaced. */
function withValue(path: string, value: unknown): Record<string, unknown> {
  const json = structuredClone(FULL) as Record<string, unknown>;
  const parts = path.split(/\.|(?=\[)/).map((p) => (p.startsWith('[') ? Number(p.slice(1, -1)) : p));
  let at: Record<string | number, unknown> = json;
  for (const part of parts.slice(0, -1)) at = at[part] as Record<string | number, unknown>;
  at[parts.at(-1)!] = value;
  return json;
}

const problemsOf = async (json: Record<string, unknown>): Promise<string[]> => {
  try {
    await buildConfig({}, { path: '/etc/portmand.json', json }, user);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
};

describe('the config schema', () => {
  it('accepts a file that sets every key, and an empty one', async () => {
    expect(fitsConfigSchema(FULL)).toBe(true);
    expect(fitsConfigSchema({})).toBe(true);
    expect(await problemsOf(FULL)).toEqual([]);
  });

  it('knows every key the config reads (the key paths the file may set)', () => {
    expect(keyPaths(ConfigFileSchema)).toHaveLength(46);
    expect(keyPaths(ConfigFileSchema)).toEqual(expect.arrayContaining(['conflicts.autoResolve[0].strategy', 'alerts[0].webhook']));
  });

  it.each(keyPaths(ConfigFileSchema))('a value of the wrong type at %s is a problem naming that key path', async (path) => {
    // An object where a value is wanted, a number where an object or array is.
    const json = withValue(path, typeof valueAt(path) === 'object' ? 7 : { wrong: true });
    expect(fitsConfigSchema(json)).toBe(false);
    expect(Value.Check(ConfigFileSchema, json)).toBe(false);
    const problems = await problemsOf(json);
    expect(problems).toEqual([expect.stringMatching(new RegExp(`^/etc/portmand\\.json: ${escape(path)} (must|is) `))]);
  });

  const objectPaths = ['', ...keyPaths(ConfigFileSchema).filter((p) => isObject(valueAt(p)))];
  it.each(objectPaths)('an unknown key in the object at "%s" is refused by its path', async (parent) => {
    const path = parent === '' ? 'colour' : `${parent}.colour`;
    const json = withValue(path, 1);
    expect(fitsConfigSchema(json)).toBe(false);
    expect(await problemsOf(json)).toEqual([
      expect.stringMatching(new RegExp(`^/etc/portmand\\.json: ${escape(path)} is not a known key \\(expected: `)),
    ]);
  });

  it('names an unknown key deep inside lists and objects', async () => {
    const json = {
      conflicts: { autoResolve: [{ strategy: 'auto' }, { strategy: 'auto', when: 'always' }] },
      alerts: [
        { on: ['drift'], command: ['x'] },
        { on: ['drift'], webhook: 'https://a.example/', headers: {} },
      ],
    };
    expect(await problemsOf(json)).toEqual([
      '/etc/portmand.json: conflicts.autoResolve[1].when is not a known key (expected: type, minSeverity, strategy)',
      '/etc/portmand.json: alerts[0].on[0] must be one of "service_registered", "service_unregistered", "port_assigned", "port_released", "conflict_detected", "conflict_resolved", "service_health", "service_restarted", "alert_failed", "listener_started", "listener_stopped", got "drift"',
      '/etc/portmand.json: alerts[1].headers is not a known key (expected: on, minSeverity, command, webhook, timeoutMs)',
      '/etc/portmand.json: alerts[1].on[0] must be one of "service_registered", "service_unregistered", "port_assigned", "port_released", "conflict_detected", "conflict_resolved", "service_health", "service_restarted", "alert_failed", "listener_started", "listener_stopped", got "drift"',
    ]);
  });

  it('reports every problem of a file at once, one line each, the schema first and then what it cannot say', async () => {
    const json = {
      colour: 'red',
      logLevel: 5,
      sync: 'always',
      groupAccess: 'yes',
      scanIntervalSec: 1.5,
      ranges: [{ name: 'Web', start: 9000, end: 8000 }, { name: 'system', start: 1, end: 2 }, 'x'],
      reservations: [{ port: 0 }, { protocol: 'tcp' }],
      socket: { mode: 660 },
      limits: { burst: 0 },
      conflicts: { autoResolve: [{ type: 'drift' }] },
      alerts: [{ on: [] }],
      portserver: { address: 'relative.sock' },
    };
    expect(await problemsOf(json)).toEqual([
      '/etc/portmand.json: colour is not a known key (expected: ranges, reservations, scanIntervalSec, healthIntervalSec, logLevel, sync, groupAccess, avoidEphemeral, socket, health, access, limits, conflicts, alerts, portserver)',
      '/etc/portmand.json: ranges[0].name must be 1-63 characters of a-z 0-9 . _ - starting with a letter or digit, got "Web"',
      '/etc/portmand.json: ranges[2] must be an object { name, start, end, purpose? }',
      '/etc/portmand.json: reservations[0].port must be a whole number from 1 to 65535, got 0',
      '/etc/portmand.json: reservations[1].port is required',
      '/etc/portmand.json: scanIntervalSec must be a whole number of seconds from 1 to 86400, got 1.5',
      '/etc/portmand.json: logLevel must be one of "fatal", "error", "warn", "info", "debug", "trace", "silent", got 5',
      '/etc/portmand.json: sync must be one of "ack", "background", got "always"',
      '/etc/portmand.json: groupAccess must be true or false, got "yes"',
      '/etc/portmand.json: socket.mode must be one of "0600", "0660", "0666", got 660',
      '/etc/portmand.json: limits.burst must be a whole number from 1 to 10000000, got 0',
      '/etc/portmand.json: conflicts.autoResolve[0].strategy is required: "auto"',
      '/etc/portmand.json: alerts[0].on must be a non-empty array of event types',
      '/etc/portmand.json: portserver.address must be an absolute socket path, or "@name" for Linux\'s abstract namespace, got "relative.sock"',
      '/etc/portmand.json: ranges[0]: start 9000 is after end 8000',
      '/etc/portmand.json: ranges[1].name "system" is a built-in range name',
      '/etc/portmand.json: alerts[0] needs a command or a webhook',
    ]);
  });

  it('with problems in the environment too, reports both', async () => {
    const err = await buildConfig({ PORTMAND_SYNC: 'never' }, { path: 'c.json', json: { colour: 1 } }, user).catch((e: unknown) => e);
    expect((err as ConfigError).problems).toEqual([
      expect.stringMatching(/^c\.json: colour is not a known key/),
      'PORTMAND_SYNC must be one of "ack", "background", got "never"',
    ]);
  });

  it('a range name defined twice is refused at its second place', async () => {
    const ranges = [
      { name: 'web', start: 1, end: 2 },
      { name: 'web', start: 3, end: 4 },
    ];
    expect(await problemsOf({ ranges })).toEqual(['/etc/portmand.json: ranges[1].name: range "web" is defined twice']);
  });

  it('shows a bad value clipped, with control characters escaped; a key that is not a plain name is quoted', () => {
    expect(schemaProblems({ logLevel: 'x'.repeat(200) })).toEqual([
      `logLevel must be one of "fatal", "error", "warn", "info", "debug", "trace", "silent", got "${'x'.repeat(79)}…`,
    ]);
    expect(schemaProblems({ 'a\u009bb': 1 })[0]).toMatch(/^\["a\\u009bb"\] is not a known key/);
    expect(schemaProblems({ socket: { group: 'a\u0085' } })).toEqual(['socket.group must not contain control characters']);
    expect(keyPath('/alerts/0/on/1', { alerts: [{ on: ['a', 'b'] }] })).toBe('alerts[0].on[1]');
    expect(keyPath('/a~1b', {})).toBe('["a/b"]');
  });
});

function valueAt(path: string): unknown {
  if (path === '') return FULL;
  const parts = path.split(/\.|(?=\[)/).map((p) => (p.startsWith('[') ? Number(p.slice(1, -1)) : p));
  let at: unknown = FULL;
  for (const part of parts) at = (at as Record<string | number, unknown>)[part];
  return at;
}

function isObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function escape(s: string): string {
  return s.replace(/[.[\]]/g, '\\$&');
}
