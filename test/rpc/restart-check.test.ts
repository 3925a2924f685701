// Who may set a restart action is decided again inside the mutation lock: a
// service created by another user between the route's first look and the
// mutation must not get this caller's command (it would run as that user).
import { describe, expect, it } from 'vitest';
import { restartRefusal, type AccessPolicy, type Caller } from '../../daemon/core/access.ts';
import { registerEffects } from '../../daemon/core/service-effects.ts';
import type { App, RpcContext } from '../../daemon/rpc/app.ts';
import { methodTable } from '../../daemon/rpc/table.ts';
import { memoryRegistry } from '../memory-registry.ts';

const T0 = Date.parse('2025-01-01T00:00:00Z');
const policy: AccessPolicy = { daemonUid: 0, daemonUser: 'root', adminGid: 50 };
/** An admin-group member: may move anyone's service, but not set a command that runs as its owner. */
const caller: Caller = { uid: 1001, user: 'ops', gids: [50], via: 'peer' };

function setup(createMeanwhile: boolean) {
  const { registry, journal } = memoryRegistry(() => T0);
  const app = {
    registry,
    allocator: { probe: async () => null },
    isLocalAddress: async () => true,
    // Awaited by the route between its first check and the mutation: another user registers the name here.
    healthTargetRefusal: async () => {
      if (createMeanwhile) {
        await registry.mutate((tx) =>
          tx.apply(
            registerEffects(
              tx.state,
              {
                name: 'web',
                port: 20_000,
                protocol: 'tcp',
                host: '127.0.0.1',
                tags: [],
                origin: 'register',
                owner: { uid: 2002, user: 'eve' },
              },
              T0,
            ),
          ),
        );
      }
      return null;
    },
    restartRefusal: (ctx: RpcContext, service: { owner?: { uid: number } } | undefined) => restartRefusal(ctx.caller, service, policy),
    user: 'root',
  } as unknown as App;
  return { registry, journal, table: methodTable(app) };
}

const params = {
  name: 'web',
  port: 20_000,
  host: '127.0.0.1',
  healthCheck: { type: 'tcp' as const },
  restart: { command: ['/bin/sh', '-c', 'id > /tmp/owned'] },
};

describe('service.register with a restart action', () => {
  it("is refused inside the lock when the service became another user's meanwhile, and changes nothing", async () => {
    const { registry, table } = setup(true);
    const ctx: RpcContext = { conn: { id: 1 } as RpcContext['conn'], caller, check: () => undefined };
    await expect(Promise.resolve(table['service.register']({ ...params }, ctx))).rejects.toMatchObject({
      code: -32004,
      data: { field: 'restart' },
    });
    expect(registry.state.services.web?.owner).toEqual({ uid: 2002, user: 'eve' });
    expect(registry.state.services.web?.restart).toBeUndefined();
  });

  it('is allowed for a new service, which the caller will own, and keeps the access check and its `by`', async () => {
    const { registry, table, journal } = setup(false);
    const check = Object.assign(() => undefined, { by: 'ops' });
    const ctx: RpcContext = { conn: { id: 1 } as RpcContext['conn'], caller, check };
    await table['service.register']({ ...params }, ctx);
    expect(registry.state.services.web?.restart).toEqual({ command: params.restart.command });
    expect(journal.some((op) => op.op === 'history' && (op.value as { by?: string }).by === 'ops')).toBe(true);
  });
});
