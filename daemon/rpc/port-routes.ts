// port.* and range.list routes.
import { allocate, listPorts, portInfo, release, reserve, suggest } from '../ops/ports.ts';
import type { App, MethodsOf, Routes } from './app.ts';
import * as v from './validate.ts';

const MAX_TTL = 365 * 24 * 3600;

export function portRoutes(app: App): Routes<MethodsOf<'port' | 'range'>> {
  const { registry, allocator } = app;
  return {
    'port.list': (p) => {
      v.only(p, ['state', 'range', 'limit']);
      const state = v.optEnum(p, 'state', ['assigned', 'reserved', 'listening', 'free'] as const);
      const range = v.optString(p, 'range');
      const limit = v.optInt(p, 'limit', 1, 65536) ?? (state === 'free' ? 1000 : 65536);
      return listPorts(registry, allocator, { limit, ...(state && { state }), ...(range !== undefined && { range }) });
    },
    'port.get': (p) => (v.only(p, ['port', 'protocol']), portInfo(registry, v.protocol(p), v.reqPort(p))),
    'port.check': (p) => {
      v.only(p, ['port', 'protocol', 'host']);
      return allocator.checkPort(v.reqPort(p), v.protocol(p), v.optHost(p) ?? '0.0.0.0');
    },
    'port.allocate': (p) => {
      v.only(p, ['service', 'preferred', 'range', 'protocol', 'host', 'ttlSec', 'pid']);
      const preferred = v.optPort(p, 'preferred');
      const range = v.optString(p, 'range');
      const ttlSec = v.optInt(p, 'ttlSec', 1, MAX_TTL);
      const pid = v.optInt(p, 'pid', 1, 2 ** 31 - 1);
      return allocate(registry, allocator, {
        service: v.reqString(p, 'service', v.SERVICE_NAME),
        protocol: v.protocol(p),
        host: v.optHost(p) ?? '0.0.0.0',
        ...(preferred !== undefined && { preferred }),
        ...(range !== undefined && { range }),
        ...(ttlSec !== undefined && { ttlSec }),
        ...(pid !== undefined && { pid }),
      });
    },
    'port.release': (p) => {
      v.only(p, ['port', 'protocol', 'service']);
      const service = v.optString(p, 'service');
      return release(registry, { port: v.reqPort(p), protocol: v.protocol(p), ...(service !== undefined && { service }) });
    },
    'port.suggest': (p) => {
      v.only(p, ['count', 'range', 'near', 'protocol']);
      const range = v.optString(p, 'range');
      const near = v.optPort(p, 'near');
      return suggest(registry, allocator, {
        count: v.optInt(p, 'count', 1, 100) ?? 5,
        protocol: v.protocol(p),
        ...(range !== undefined && { range }),
        ...(near !== undefined && { near }),
      });
    },
    'port.reserve': (p) => {
      v.only(p, ['port', 'protocol', 'for', 'reason', 'ttlSec']);
      const forName = v.optString(p, 'for', v.SERVICE_NAME);
      const reason = v.optString(p, 'reason', { max: 500 });
      const ttlSec = v.optInt(p, 'ttlSec', 1, MAX_TTL);
      return reserve(registry, {
        port: v.reqPort(p),
        protocol: v.protocol(p),
        ...(forName !== undefined && { for: forName }),
        ...(reason !== undefined && { reason }),
        ...(ttlSec !== undefined && { ttlSec }),
      });
    },
    'range.list': (p) => (v.only(p, []), [...allocator.ranges]),
  };
}
