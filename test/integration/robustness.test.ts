// The daemon never crashes on a client's input, and a rejected request
// changes nothing: hundreds of malformed calls to every method, from a seeded
// generator (the same run every time), then the state is compared.
import { describe, expect, it } from 'vitest';
import type { MethodName } from '../../client/protocol.ts';
import { useDaemon } from './harness.ts';

const daemon = useDaemon();

const METHODS: MethodName[] = [
  'service.register',
  'service.list',
  'service.get',
  'service.setPort',
  'service.unregister',
  'service.restart',
  'port.list',
  'port.get',
  'port.check',
  'port.allocate',
  'port.release',
  'port.suggest',
  'port.reserve',
  'range.list',
  'conflict.list',
  'conflict.resolve',
  'conflict.history',
  'conflict.plan',
  'daemon.status',
  'daemon.config',
  'events.subscribe',
  'events.unsubscribe',
];
const FIELDS = [
  'name',
  'port',
  'protocol',
  'host',
  'pid',
  'service',
  'range',
  'preferred',
  'ttlSec',
  'count',
  'near',
  'strategy',
  'newPort',
  'withService',
  'conflictId',
  'types',
  'sinceSeq',
  'tags',
  'healthCheck',
  'exclusive',
  'state',
  'limit',
  'since',
  'for',
  'reason',
  'open',
  'status',
  'tag',
  'restart',
  'onPortChange',
  'autoResolve',
];
const BAD_VALUES: unknown[] = [
  null,
  -1,
  0,
  65536,
  1.5,
  1e308,
  '',
  'x'.repeat(300),
  'Bad Name',
  '0-99999',
  '9-1',
  [],
  [1],
  {},
  { type: 'http' },
  true,
  '__proto__',
  'NaN',
  'udp ',
  ['no_such_event'],
];

/** mulberry32: a tiny seeded PRNG so that a failure reproduces. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('robustness', () => {
  it('answers 600 malformed calls with typed errors, never -32603, and changes nothing', async () => {
    const pm = daemon().client({ sendPid: false });
    await pm.service.register({ name: 'anchor', port: 18900 });
    // The registry's own records: what other processes on the host listen on may change meanwhile.
    const snapshot = async () => ({
      services: await pm.service.list(),
      ports: (await pm.port.list({})).filter((p) => p.state !== 'listening').map(({ listener: _l, ...p }) => p),
      conflicts: await pm.conflict.history({}),
    });
    const before = await snapshot();
    const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
    const r = rng(20261125);
    const codes = new Map<number, number>();
    for (let i = 0; i < 600; i++) {
      const params: Record<string, unknown> = {};
      for (let k = 1 + Math.floor(r() * 3); k > 0; k--) params[pick(r, FIELDS)] = pick(r, BAD_VALUES);
      const method = pick(r, METHODS);
      const outcome = await pm.call(method, params as never).then(
        () => null,
        (err: { code?: number; data?: Record<string, unknown> }) => err,
      );
      if (outcome === null) continue; // a few combinations are valid reads
      expect(outcome.code, `${method} ${JSON.stringify(params)}`).not.toBe(-32603);
      if (outcome.code === -32602) expect(outcome.data).toMatchObject({ field: expect.any(String), problem: expect.any(String) });
      codes.set(outcome.code!, (codes.get(outcome.code!) ?? 0) + 1);
    }
    expect(codes.get(-32602)).toBeGreaterThan(300);
    expect(await pm.daemon.ping()).toBe('pong');
    const after = await snapshot();
    expect(after).toEqual(before);
  });

  it('names that are also Object.prototype members are just names', async () => {
    const pm = daemon().client({ sendPid: false });
    for (const name of ['constructor', 'toString', 'hasOwnProperty']) {
      await expect(pm.service.get({ name })).rejects.toMatchObject({ code: -32001 });
      await expect(pm.service.unregister({ name })).rejects.toMatchObject({ code: -32001 });
      await expect(pm.conflict.resolve({ conflictId: name, strategy: 'auto' })).rejects.toMatchObject({ code: -32001 });
    }
    const r = await pm.service.register({ name: 'constructor', port: 18901 });
    expect(r.name).toBe('constructor');
    expect((await pm.service.get({ name: 'constructor' })).port).toBe(18901);
    expect(await pm.service.unregister({ name: 'constructor' })).toEqual({ name: 'constructor', releasedPorts: [18901] });
  });
});
