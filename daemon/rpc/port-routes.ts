// port.* and range.list routes. Params arrive checked against their schemas
// (client/schema/port.ts); `host` is checked here, as an address of this host.
import { LIMITS } from '../../client/protocol.ts';
import { allocate, listPorts, portInfo, release, reserve, suggest } from '../ops/ports.ts';
import type { App, MethodsOf, Routes } from './app.ts';
import { localHost } from './validate.ts';
import { creation } from '../access/guard.ts';

export function portRoutes(app: App): Routes<Exclude<MethodsOf<'port' | 'range'>, 'port.history'>> {
  const { registry, allocator } = app;
  return {
    'port.list': ({ state, range, limit }) =>
      listPorts(registry, allocator, {
        limit: limit ?? (state === 'free' ? LIMITS.listFreeDefault : LIMITS.listLimit),
        ...(state && { state }),
        ...(range !== undefined && { range }),
      }),
    'port.get': (p) => portInfo(registry, p.protocol ?? 'tcp', p.port),
    'port.check': async (p) => allocator.checkPort(p.port, p.protocol ?? 'tcp', await localHost(p.host, app.isLocalAddress)),
    'port.allocate': async ({ token: _token, ...p }, ctx) =>
      allocate(
        registry,
        allocator,
        { ...p, protocol: p.protocol ?? 'tcp', host: await localHost(p.host, app.isLocalAddress), ...creation(ctx) },
        ctx.check,
      ),
    'port.release': ({ token: _token, ...p }, ctx) => release(registry, { ...p, protocol: p.protocol ?? 'tcp' }, ctx.check),
    'port.suggest': (p) => suggest(allocator, { ...p, count: p.count ?? LIMITS.suggestCountDefault, protocol: p.protocol ?? 'tcp' }),
    'port.reserve': ({ token: _token, ...p }, ctx) =>
      reserve(registry, { ...p, protocol: p.protocol ?? 'tcp', ...creation(ctx) }, ctx.check),
    'range.list': () => [...allocator.ranges],
  };
}
