import { describe, expect, it } from 'vitest';
import type { App } from '../../daemon/rpc/app.ts';
import { conflictRoutes } from '../../daemon/rpc/conflict-routes.ts';
import { withParams } from '../../daemon/rpc/params.ts';
import { untyped } from '../../daemon/rpc/table.ts';
import { CHECKS } from '../../daemon/rpc/checks.generated.ts';

describe('conflict.resolve validates its params before anything is decided', () => {
  // No registry: a request that gets past validation would fail on it, not with -32602.
  // As the daemon runs it: behind the params layer (the schema), then the route's own cross-field rules.
  const resolve = withParams(CHECKS, untyped(conflictRoutes({ registry: {} } as unknown as App)))['conflict.resolve']!;

  it.each([
    ['no strategy', { service: 'web' }, 'strategy'],
    ['an unknown strategy', { service: 'web', strategy: 'teleport' }, 'strategy'],
    ['neither service nor conflictId', { strategy: 'auto' }, 'service'],
    ['manual without newPort', { service: 'web', strategy: 'manual' }, 'newPort'],
    ['manual to port 70000', { service: 'web', strategy: 'manual', newPort: 70000 }, 'newPort'],
    ['swap without withService', { service: 'web', strategy: 'swap' }, 'withService'],
    ['a parameter it does not know', { service: 'web', strategy: 'auto', force: true }, 'force'],
  ])('refuses %s with -32602 on that field', async (_name, params, field) => {
    // The params layer rejects; the route's own rules throw: either way the call fails with -32602.
    await expect((async () => resolve(params, {} as never))()).rejects.toThrow(
      expect.objectContaining({ code: -32602, data: expect.objectContaining({ field }) }),
    );
  });
});
