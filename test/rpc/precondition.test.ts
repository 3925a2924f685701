// The access layer's check is taken again inside the mutation lock
// (registry.ts Precondition). It travels in the call's context, not through
// AsyncLocalStorage, so every mutating route must hand ctx.check to its
// registry mutation: one that forgets would act on a decision made on an
// older state. Each mutating method is called here with a check that
// refuses; nothing may change.
import { describe, expect, it } from 'vitest';
import { RULES } from '../../daemon/access/targets.ts';
import { registerEffects, reserveEffects } from '../../daemon/core/service-effects.ts';
import type { App, RpcContext } from '../../daemon/rpc/app.ts';
import { methodTable } from '../../daemon/rpc/table.ts';
import { memoryRegistry } from '../memory-registry.ts';

const T0 = Date.parse('2025-01-01T00:00:00Z');

/** Valid params for each mutating method, aimed at what the registry holds. */
const CALLS: Record<string, Record<string, unknown>> = {
  'service.register': { name: 'web', port: 20_001 },
  'service.setPort': { name: 'web', port: 20_002 },
  'service.unregister': { name: 'web' },
  'token.rotate': { service: 'web' },
  'port.allocate': { service: 'web', ttlSec: 60 },
  'port.release': { port: 20_000 },
  'port.reserve': { port: 21_000, reason: 'again' },
  'conflict.resolve': { service: 'web', strategy: 'manual', newPort: 20_003 },
};

/** Methods that do not mutate the registry today: nothing to check inside the lock. */
const NOT_MUTATING = new Set(['service.restart']);

async function setup() {
  const { registry, journal } = memoryRegistry(() => T0);
  await registry.mutate((tx) => {
    tx.apply(
      registerEffects(
        tx.state,
        { name: 'web', port: 20_000, protocol: 'tcp', host: '0.0.0.0', tags: [], origin: 'register', owner: { uid: 1 } },
        T0,
      ),
    );
    tx.apply(
      reserveEffects(
        { port: 21_000, protocol: 'tcp', reason: 'kept', createdAt: new Date(T0).toISOString(), owner: { uid: 1 } },
        { now: T0, why: 'reserve' },
      ),
    );
  });
  journal.length = 0;
  const app = {
    registry,
    allocator: {},
    isLocalAddress: async () => true,
    healthTargetRefusal: async () => null,
    user: 'daemon',
  } as unknown as App;
  return { registry, journal, table: methodTable(app) };
}

describe('every mutating route hands the access check to its mutation', () => {
  it('covers every method the access layer guards', () => {
    expect(
      Object.keys(RULES)
        .filter((m) => !NOT_MUTATING.has(m))
        .sort(),
    ).toEqual(Object.keys(CALLS).sort());
  });

  it.each(Object.entries(CALLS))('%s is refused inside the lock when its check says no, and changes nothing', async (method, params) => {
    const { registry, journal, table } = await setup();
    const before = JSON.stringify(registry.state);
    const ctx: RpcContext = {
      conn: { id: 1 } as RpcContext['conn'],
      caller: { uid: 1, gids: [], via: 'peer' },
      check: () => {
        throw new Error('refused inside the lock');
      },
    };
    const route = table[method as keyof typeof table] as (p: Record<string, unknown>, c: RpcContext) => unknown;
    await expect(Promise.resolve().then(() => route({ ...params }, ctx))).rejects.toThrow('refused inside the lock');
    expect(JSON.stringify(registry.state)).toBe(before);
    expect(journal).toEqual([]);
  });
});
