// service.* routes.
import type { HealthCheck } from '../../client/protocol.ts';
import { invalidParams, notFound } from '../core/errors.ts';
import { getService, listServices, register, setPort, unregister } from '../ops/services.ts';
import type { App, MethodsOf, Routes } from './app.ts';
import * as v from './validate.ts';

const TAG = { pattern: /^[\w.:/-]{1,64}$/, hint: 'must be 1-64 characters of letters, digits, . _ : / -', max: 64 };

/** The healthCheck param: undefined keeps the service's check, null removes it. */
function healthCheck(p: v.Params): HealthCheck | null | undefined {
  const h = p.healthCheck;
  if (h === undefined || h === null) return h;
  if (typeof h !== 'object' || h === null || Array.isArray(h)) throw invalidParams('healthCheck', 'must be an object { type: "http", url } or { type: "tcp" }');
  const hc = h as v.Params;
  const type = v.optEnum(hc, 'type', ['http', 'tcp'] as const);
  if (!type) throw invalidParams('healthCheck.type', 'is required: "http" or "tcp"');
  const intervalSec = v.optInt(hc, 'intervalSec', 1, 86_400);
  const timeoutMs = v.optInt(hc, 'timeoutMs', 1, 600_000);
  const common = { ...(intervalSec !== undefined && { intervalSec }), ...(timeoutMs !== undefined && { timeoutMs }) };
  if (type === 'tcp') return { type, ...common };
  const url = v.optString(hc, 'url', { pattern: /^https?:\/\/\S+$/, hint: 'must be an http:// or https:// URL' });
  if (!url) throw invalidParams('healthCheck.url', 'is required for an http check');
  return { type, url, ...common };
}

export function serviceRoutes(app: App): Routes<MethodsOf<'service'>> {
  const { registry, allocator } = app;
  return {
    'service.register': (p) => {
      v.only(p, ['name', 'port', 'protocol', 'host', 'pid', 'process', 'healthCheck', 'tags', 'range', 'exclusive']);
      const range = v.optString(p, 'range');
      const port = v.optPort(p);
      const pid = v.optInt(p, 'pid', 1, 2 ** 31 - 1);
      const proc = v.optString(p, 'process', { max: 255 });
      const hc = healthCheck(p);
      const tags = v.optStringArray(p, 'tags', { ...TAG, max: 32 });
      const exclusive = v.optBool(p, 'exclusive');
      return register(registry, allocator, {
        name: v.reqString(p, 'name', v.SERVICE_NAME),
        protocol: v.protocol(p),
        host: v.optHost(p) ?? '0.0.0.0',
        ...(port !== undefined && { port }),
        ...(range !== undefined && { range }),
        ...(pid !== undefined && { pid }),
        ...(proc !== undefined && { process: proc }),
        ...(hc !== undefined && { healthCheck: hc }),
        ...(tags !== undefined && { tags }),
        ...(exclusive !== undefined && { exclusive }),
      });
    },
    'service.list': (p) => {
      v.only(p, ['status', 'tag']);
      const status = v.optEnum(p, 'status', ['registered', 'healthy', 'unhealthy', 'stopped'] as const);
      const tag = v.optString(p, 'tag');
      return listServices(registry, { ...(status && { status }), ...(tag !== undefined && { tag }) });
    },
    'service.get': (p) => (v.only(p, ['name']), getService(registry, v.reqString(p, 'name'))),
    'service.setPort': (p) => (v.only(p, ['name', 'port']), setPort(registry, allocator, { name: v.reqString(p, 'name'), port: v.reqPort(p) })),
    'service.unregister': (p) => (v.only(p, ['name']), unregister(registry, v.reqString(p, 'name'))),
    'service.restart': (p) => {
      v.only(p, ['name']);
      const name = v.reqString(p, 'name');
      if (!registry.state.services[name]) throw notFound('service', name);
      return { name, restarted: false, reason: 'no restart action is configured for this service' };
    },
  };
}
