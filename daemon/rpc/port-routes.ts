// port.* and range.list routes.
import { LIMITS, PORT_STATES } from '../../client/protocol.ts';
import { allocate, listPorts, portInfo, release, reserve, suggest } from '../ops/ports.ts';
import type { App, MethodsOf, Routes } from './app.ts';
import * as v from './validate.ts';
import { creation } from '../access/guard.ts';

export function portRoutes(app: App): Routes<Exclude<MethodsOf<'port' | 'range'>, 'port.history'>> {
  const { registry, allocator } = app;
  return {
    'port.list': (p) => {
      v.only(p, ['state', 'range', 'limit']);
      const state = v.optEnum(p, 'state', PORT_STATES);
      const range = v.optString(p, 'range');
      const limit = v.optInt(p, 'limit', 1, LIMITS.listLimit) ?? (state === 'free' ? LIMITS.listFreeDefault : LIMITS.listLimit);
      return listPorts(registry, allocator, { limit, ...(state && { state }), ...(range !== undefined && { range }) });
    },
    'port.get': (p) => (v.only(p, ['port', 'protocol']), portInfo(registry, v.protocol(p), v.reqPort(p))),
    'port.check': async (p) => {
      v.only(p, ['port', 'protocol', 'host']);
      const port = v.reqPort(p);
      const protocol = v.protocol(p);
      return allocator.checkPort(port, protocol, (await v.optHost(p, app.isLocalAddress)) ?? '0.0.0.0');
    },
    'port.allocate': async (p, ctx) => {
      v.only(p, ['service', 'preferred', 'range', 'protocol', 'host', 'ttlSec', 'pid', 'exclude']);
      const preferred = v.optPort(p, 'preferred');
      const exclude = v.optPortArray(p, 'exclude', LIMITS.excludePorts);
      const range = v.optString(p, 'range');
      const ttlSec = v.optInt(p, 'ttlSec', 1, LIMITS.ttlSec);
      const pid = v.optInt(p, 'pid', 1, 2 ** 31 - 1);
      const service = v.reqString(p, 'service', v.SERVICE_NAME);
      const protocol = v.protocol(p);
      return allocate(
        registry,
        allocator,
        {
          service,
          protocol,
          host: (await v.optHost(p, app.isLocalAddress)) ?? '0.0.0.0',
          ...(preferred !== undefined && { preferred }),
          ...(range !== undefined && { range }),
          ...(ttlSec !== undefined && { ttlSec }),
          ...(pid !== undefined && { pid }),
          ...(exclude !== undefined && { exclude }),
          ...creation(ctx),
        },
        ctx.check,
      );
    },
    'port.release': (p, ctx) => {
      v.only(p, ['port', 'protocol', 'service']);
      const service = v.optString(p, 'service');
      return release(registry, { port: v.reqPort(p), protocol: v.protocol(p), ...(service !== undefined && { service }) }, ctx.check);
    },
    'port.suggest': (p) => {
      v.only(p, ['count', 'range', 'near', 'protocol']);
      const range = v.optString(p, 'range');
      const near = v.optPort(p, 'near');
      return suggest(allocator, {
        count: v.optInt(p, 'count', 1, LIMITS.suggestCount) ?? LIMITS.suggestCountDefault,
        protocol: v.protocol(p),
        ...(range !== undefined && { range }),
        ...(near !== undefined && { near }),
      });
    },
    'port.reserve': (p, ctx) => {
      v.only(p, ['port', 'protocol', 'for', 'reason', 'ttlSec']);
      const forName = v.optString(p, 'for', v.SERVICE_NAME);
      const reason = v.optString(p, 'reason', { max: LIMITS.reasonChars });
      const ttlSec = v.optInt(p, 'ttlSec', 1, LIMITS.ttlSec);
      return reserve(
        registry,
        {
          port: v.reqPort(p),
          protocol: v.protocol(p),
          ...(forName !== undefined && { for: forName }),
          ...(reason !== undefined && { reason }),
          ...(ttlSec !== undefined && { ttlSec }),
          ...creation(ctx),
        },
        ctx.check,
      );
    },
    'range.list': (p) => (v.only(p, []), [...allocator.ranges]),
  };
}
