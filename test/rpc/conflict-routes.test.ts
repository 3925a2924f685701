import { describe, expect, it } from 'vitest';
import type { App } from '../../daemon/rpc/app.ts';
import { conflictRoutes } from '../../daemon/rpc/conflict-routes.ts';
import { withParams } from '../../daemon/rpc/params.ts';
import { untyped } from '../../daemon/rpc/table.ts';
import { PARAMS } from '../../client/schema/methods.ts';

describe('conflict.resolve validates its params before anything is decided', () => {
  // No registry: a request that gets past validation would fail on it, not with -32602.
  // As the daemon runs it: behind the params layer (the schema), then the route's own cross-field rules.
  const resolve = withParams(PARAMS, untyped(conflictRoutes({ registry: {} } as unknown as App)))['conflict.resolve']!;

  it.each([
    ['no strategy', { service: 'web' }, 'strategy'],
    ['an unknown strategy', { service: 'web', strategy: 'teleport' }, 'strategy'],
    ['neither service nor conflictId', { strategy: 'auto' }, 'service'],
    ['manual without newPort', { service: 'web', strategy: 'manual' }, 'newPort'],
    ['manual to port 70000', { service: 'web', strategy: 'manual', newPort: 70000 }, 'newPort'],
    ['swap without withService', { service: 'web', strategy: 'swap' }, 'withService'],
    ['a parameter it does not know', { service: 'web', strategy: 'auto', force: true }, 'force'],
  ])('refuses %s with -32602 on that field', (_name, params, field) => {
    expect(() => resolve(params, {} as never)).toThrow(expect.objectContaining({ code: -32602, data: expect.objectContaining({ field }) }));
  });
});
