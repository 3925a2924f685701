// service.* routes. Params arrive checked against their schemas
// (client/schema/service.ts); what is left here is what a schema cannot say.
import type { HealthCheck } from '../../client/protocol.ts';
import { checkTarget, parseExpectStatus } from '../core/health.ts';
import { invalidParams, notFound } from '../core/errors.ts';
import { getService, listServices, register, setPort, unregister, type RegisterRequest } from '../ops/services.ts';
import { assignKeys, without } from '../core/copy.ts';
import type { App, MethodsOf, Routes } from './app.ts';
import { restartCheck, revealRestart } from './restart-access.ts';
import { localHost } from './validate.ts';
import { creation } from '../access/guard.ts';

/** An http check's expectStatus must parse ("200-399", "200,204"). */
function checkExpectStatus(check: HealthCheck | null | undefined): void {
  if (check?.type !== 'http' || check.expectStatus === undefined) return;
  const bad = parseExpectStatus(check.expectStatus);
  if (typeof bad === 'string') throw invalidParams('healthCheck.expectStatus', bad);
}

/**
 * Refuses a check that would probe something other than this host (unless the
 * operator allows it): -32602 on the URL, or on `host` for a TCP check, which
 * connects to the service's own address. The probe checks again each time.
 */
async function vetHealthCheck(app: App, check: HealthCheck | undefined, host: string): Promise<void> {
  const target = check && checkTarget({ host, port: 0, healthCheck: check });
  if (!target) return;
  const why = await app.healthTargetRefusal(target);
  if (why !== null) throw invalidParams(target.type === 'http' ? 'healthCheck.url' : 'host', why);
}

export function serviceRoutes(app: App): Routes<MethodsOf<'service'>> {
  const { registry, allocator } = app;
  return {
    'service.register': async (p, ctx) => {
      const { name, healthCheck: hc, restart } = p;
      checkExpectStatus(hc);
      if (restart && 'command' in restart && restart.command[0] === '')
        throw invalidParams('restart.command', 'entry 0 (the program) must not be empty');
      // The command runs as the service's owner: only the owner or root may set one (checked now, and in the lock).
      const check = restart ? restartCheck(app, ctx, name) : ctx.check;
      const host = await localHost(p.host, app.isLocalAddress);
      // An update without healthCheck keeps the service's check: it is vetted against the new host too.
      await vetHealthCheck(app, hc === null ? undefined : (hc ?? registry.state.services[name]?.healthCheck), host);
      // Built key by key, not spread from a rest object (core/copy.ts says why).
      const request = without(p, ['name', 'healthCheck', 'restart', 'token']) as RegisterRequest;
      request.name = name;
      request.protocol = p.protocol ?? 'tcp';
      request.host = host;
      if (hc !== undefined) request.healthCheck = hc;
      if (restart !== undefined) request.restart = restart;
      return register(registry, allocator, assignKeys(request, creation(ctx)), check);
    },
    'service.list': (p) => listServices(registry, p),
    'service.get': async ({ name }, ctx) => {
      const restart = await revealRestart(app, ctx, name);
      const detail = getService(registry, name, app.health.results);
      return restart ? { ...detail, restart } : detail;
    },
    'service.setPort': (p, ctx) => setPort(registry, allocator, { name: p.name, port: p.port }, ctx.check),
    'service.unregister': (p, ctx) => unregister(registry, p.name, ctx.check),
    'service.restart': async ({ name }) => {
      if (!registry.state.services[name]) throw notFound('service', name);
      return { name, ...(await app.restarter.request(name, 'manual')) };
    },
  };
}
