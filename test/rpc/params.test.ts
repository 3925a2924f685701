// The params layer: each method's schema (client/schema/) checks its params
// before anything else, and a refusal names the field by its path and says
// what is wrong, without echoing what was sent.
import { describe, expect, it } from 'vitest';
import { LIMITS, MUTATING_METHODS } from '../../client/protocol.ts';
import { PARAMS } from '../../client/schema/methods.ts';
import { CHECKS } from '../../daemon/rpc/checks.generated.ts';
import { refusalOf, withParams } from '../../daemon/rpc/params.ts';

/** As the daemon judges params: the generated check, then, on a refusal, its wording from the schema. */
const check = async (method: keyof typeof PARAMS, params: unknown) => (CHECKS[method](params) ? null : refusalOf(method, params));

function nested(depth: number): unknown {
  let v: unknown = [];
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

describe('params that fit their schema', () => {
  it.each([
    ['service.register', { name: 'web' }],
    [
      'service.register',
      {
        name: 'web.api_2',
        port: 8080,
        protocol: 'udp',
        host: '127.0.0.1',
        pid: 1,
        process: 'node',
        healthCheck: { type: 'http', url: 'http://127.0.0.1:8080/health', expectStatus: '200,204', failuresBeforeUnhealthy: 3 },
        tags: ['team:web', 'a/b'],
        restart: { command: ['systemctl', 'restart', 'web'], cwd: '/srv', env: { MODE: 'x' }, timeoutSec: 30 },
        onPortChange: 'restart',
        autoResolve: true,
        token: ['pmt_a', 'pmt_b'],
      },
    ],
    ['service.register', { name: 'web', healthCheck: null, restart: null }],
    ['service.register', { name: 'web', restart: { signal: 'SIGHUP' } }],
    ['conflict.resolve', { conflictId: 'c1', strategy: 'auto' }],
    ['stats.series', { metric: 'service.up', service: 'web', step: 3600 }],
    ['events.subscribe', { types: ['port_assigned'], sinceSeq: 0 }],
    ['daemon.ping', {}],
    ['rpc.discover', {}],
  ] as const)('%s %j passes', async (method, params) => {
    expect(await check(method, params)).toBeNull();
  });
});

describe('a refusal names the field by its path, and the problem', () => {
  it.each([
    ['service.register', {}, 'name', 'is required'],
    ['service.register', { name: 'Web' }, 'name', 'must be 1-63 characters of a-z 0-9 . _ - starting with a letter or digit'],
    ['service.register', { name: 'web', port: 70000 }, 'port', 'must be a whole number 1..65535'],
    ['service.register', { name: 'web', port: 80.5 }, 'port', 'must be a whole number 1..65535'],
    ['service.register', { name: 'web', port: '80' }, 'port', 'must be a whole number 1..65535'],
    ['service.register', { name: 'web', protocol: 'sctp' }, 'protocol', 'must be one of "tcp", "udp"'],
    ['service.register', { name: 'web', exclusive: 'yes' }, 'exclusive', 'must be true or false'],
    ['service.register', { name: 'web', process: 'a\u001bb' }, 'process', 'must not contain control characters'],
    [
      'service.register',
      { name: 'web', process: 'p'.repeat(LIMITS.processChars + 1) },
      'process',
      `must be at most ${LIMITS.processChars} characters`,
    ],
    ['service.register', { name: 'web', tags: ['ok', 'bad tag'] }, 'tags', 'entry 1 must be 1-64 characters of letters, digits, . _ : / -'],
    ['service.register', { name: 'web', tags: Array(LIMITS.tags + 1).fill('t') }, 'tags', `must have at most ${LIMITS.tags} entries`],
    ['service.register', { name: 'web', healthCheck: 'x' }, 'healthCheck', 'must be an object { type: "http", url } or { type: "tcp" }'],
    ['service.register', { name: 'web', healthCheck: {} }, 'healthCheck.type', 'is required: one of "http", "tcp"'],
    ['service.register', { name: 'web', healthCheck: { type: 'ftp' } }, 'healthCheck.type', 'must be one of "http", "tcp"'],
    ['service.register', { name: 'web', healthCheck: { type: 'http' } }, 'healthCheck.url', 'is required'],
    [
      'service.register',
      { name: 'web', healthCheck: { type: 'http', url: 'ftp://x' } },
      'healthCheck.url',
      'must be an http:// or https:// URL',
    ],
    [
      'service.register',
      { name: 'web', healthCheck: { type: 'http', url: 'http://a\u0085b' } },
      'healthCheck.url',
      'must not contain control characters',
    ],
    [
      'service.register',
      { name: 'web', healthCheck: { type: 'tcp', timeoutMs: 600_000 } },
      'healthCheck.timeoutMs',
      'must be a whole number 1..30000',
    ],
    [
      'service.register',
      { name: 'web', healthCheck: { type: 'tcp', expectStatus: '200' } },
      'healthCheck.expectStatus',
      /^is not a field of healthCheck \(expected: type, /,
    ],
    ['service.register', { name: 'web', restart: 5 }, 'restart', /^must be an object \{ command: \[argv\]/],
    ['service.register', { name: 'web', restart: {} }, 'restart', /^must be an object \{ command: \[argv\]/],
    ['service.register', { name: 'web', restart: { command: [] } }, 'restart.command', /^must be a non-empty array of strings/],
    [
      'service.register',
      { name: 'web', restart: { command: ['echo', 'a\u001b[2J'] } },
      'restart.command',
      'entry 1 must not contain control characters',
    ],
    ['service.register', { name: 'web', restart: { command: ['echo'], env: { PORT: '1' } } }, 'restart.env', /not one portmand sets/],
    ['service.register', { name: 'web', restart: { command: ['echo'], env: { 'A B': '1' } } }, 'restart.env', /^names must be letters/],
    ['service.register', { name: 'web', restart: { command: ['echo'], env: { A: 5 } } }, 'restart.env.A', 'must be a string'],
    [
      'service.register',
      { name: 'web', restart: { command: ['echo'], env: ['A=1'] } },
      'restart.env',
      'must be an object of NAME: "value"',
    ],
    ['service.register', { name: 'web', restart: { command: ['echo'], env: 'A=1' } }, 'restart.env', 'must be an object of NAME: "value"'],
    ['service.register', { name: 'web', restart: { command: ['echo'], cwd: 'relative' } }, 'restart.cwd', /^must be an absolute path/],
    ['service.register', { name: 'web', restart: { command: ['echo'], shell: true } }, 'restart.shell', /^is not a field of restart/],
    ['service.register', { name: 'web', restart: { signal: 'SIGKILL' } }, 'restart.signal', /^must be one of "SIGHUP"/],
    [
      'service.register',
      { name: 'web', restart: { signal: 'SIGHUP', command: ['x'] } },
      'restart.command',
      'is not a field of restart (expected: signal)',
    ],
    ['service.register', { name: 'web', token: 5 }, 'token', 'must be a token string, or an array of at most 8'],
    // README: string parameters never hold control characters; a token is one.
    ['service.register', { name: 'web', token: 'pmt_a\u0000' }, 'token', 'must be a token string, or an array of at most 8'],
    ['port.release', { port: 80, token: ['pmt_a', 'pmt_\u001b'] }, 'token', 'must be a token string, or an array of at most 8'],
    ['conflict.resolve', { service: 'x' }, 'strategy', 'is required: one of "auto", "manual", "swap", "reserve"'],
    ['stats.series', { metric: 'range.assigned', step: 90 }, 'step', 'must be a whole number of seconds, a multiple of 60'],
    ['events.subscribe', { types: ['port_assigned', 'nope'] }, 'types', /^entry 1 must be one of "service_registered"/],
    ['events.subscribe', { sinceSeq: -1 }, 'sinceSeq', /^must be a whole number 0\.\./],
  ] as const)('%s %j: %s', async (method, params, field, problem) => {
    const refusal = await check(method, params);
    expect(refusal?.field).toBe(field);
    if (typeof problem === 'string') expect(refusal?.problem).toBe(problem);
    else expect(refusal?.problem).toMatch(problem);
  });
});

describe('unknown params', () => {
  it('are refused by name, listing what the method takes', async () => {
    expect(await check('port.get', { port: 80, prot: 'udp' })).toEqual({
      field: 'prot',
      problem: 'is not a parameter of this method (expected: port, protocol)',
    });
    expect(await check('daemon.ping', { verbose: true })).toEqual({
      field: 'verbose',
      problem: 'is not a parameter of this method (expected: none)',
    });
  });

  it('come before what is missing or wrong: a typo explains them', async () => {
    expect((await check('port.get', { prt: 80 }))?.field).toBe('prt');
    expect((await check('service.register', { name: 'web', port: 0, bogus: 1 }))?.field).toBe('bogus');
  });

  it('are refused inside nested objects too, by path', async () => {
    expect((await check('service.register', { name: 'web', healthCheck: { type: 'tcp', every: 5 } }))?.field).toBe('healthCheck.every');
  });
});

describe('huge and deep inputs', () => {
  it('a long unknown key is named clipped, not whole', async () => {
    const key = 'k'.repeat(100_000);
    const refusal = await check('daemon.ping', { [key]: 1 });
    expect(refusal?.field.length).toBeLessThan(100);
    expect(refusal?.field.startsWith('kkkk')).toBe(true);
  });

  it('a huge value is refused without being echoed', async () => {
    const big = `x${'\u0001'.repeat(500_000)}`;
    const refusal = await check('port.reserve', { port: 1, reason: big });
    expect(refusal).toEqual({ field: 'reason', problem: `must be at most ${LIMITS.reasonChars} characters` });
  });

  it('deeply nested values where a string or an object belongs are refused, not recursed into', async () => {
    for (const [method, params, field] of [
      ['events.subscribe', { types: nested(100_000) }, 'types'],
      ['events.subscribe', { types: ['port_assigned', nested(100_000)] }, 'types'],
      ['service.register', { name: 'web', healthCheck: { type: 'http', url: nested(100_000) } }, 'healthCheck.url'],
      ['service.register', { name: 'web', deep: nested(100_000) }, 'deep'],
    ] as const) {
      const refusal = await check(method, params);
      expect(refusal?.field).toBe(field);
      expect(JSON.stringify(refusal).length).toBeLessThan(1000);
    }
  });

  it('many unknown keys are refused at the first', async () => {
    const params = Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`k${i}`, i]));
    expect((await check('service.list', params))?.field).toBe('k0');
  });
});

describe('withParams', () => {
  it('rejects with -32602 with field and problem, and never calls the handler', async () => {
    let called = 0;
    const methods = withParams(CHECKS, { 'port.get': () => ++called });
    await expect(methods['port.get']!({ port: 0 }, {})).rejects.toThrow(
      expect.objectContaining({ code: -32602, data: { field: 'port', problem: 'must be a whole number 1..65535' } }),
    );
    expect(called).toBe(0);
    expect(methods['port.get']!({ port: 80 }, {})).toBe(1);
  });

  it('refuses to wrap a method that has no schema', () => {
    expect(() => withParams(CHECKS, { 'port.teleport': () => 1 })).toThrow(/no params schema for port.teleport/);
  });
});

describe('token', () => {
  it('is a param of every mutating method (the client attaches it) and of no other', () => {
    for (const [method, schema] of Object.entries(PARAMS))
      expect(Object.hasOwn(schema.properties, 'token'), method).toBe((MUTATING_METHODS as readonly string[]).includes(method));
  });
});
