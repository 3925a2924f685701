// service.* routes.
import { HEALTH_CHECK_TYPES, LIMITS, SERVICE_STATUSES, type CheckThresholds, type HealthCheck } from '../../client/protocol.ts';
import { checkTarget, parseExpectStatus } from '../core/health.ts';
import { DomainError, invalidParams, notFound } from '../core/errors.ts';
import { getService, listServices, register, setPort, unregister } from '../ops/services.ts';
import type { App, MethodsOf, Routes } from './app.ts';
import { onPortChange, restartAction, restartCheck, revealRestart } from './restart-params.ts';
import * as v from './validate.ts';
import { creation } from '../access/guard.ts';

const TAG = {
  pattern: new RegExp(`^[\\w.:/-]{1,${LIMITS.tagChars}}$`),
  hint: `must be 1-${LIMITS.tagChars} characters of letters, digits, . _ : / -`,
};

/** The healthCheck param: undefined keeps the service's check, null removes it. */
function healthCheck(p: v.Params): HealthCheck | null | undefined {
  const h = p.healthCheck;
  if (h === undefined || h === null) return h;
  if (typeof h !== 'object' || h === null || Array.isArray(h))
    throw invalidParams('healthCheck', 'must be an object { type: "http", url } or { type: "tcp" }');
  const hc = h as v.Params;
  return inField('healthCheck', () => readHealthCheck(hc));
}

/** Runs `read`, naming a refused field by its path under `parent`. */
function inField<T>(parent: string, read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof DomainError && typeof err.data.field === 'string' && !err.data.field.startsWith(`${parent}.`)) {
      throw invalidParams(`${parent}.${err.data.field}`, String(err.data.problem));
    }
    throw err;
  }
}

function readHealthCheck(hc: v.Params): HealthCheck {
  const type = v.optEnum(hc, 'type', HEALTH_CHECK_TYPES);
  if (!type) throw invalidParams('healthCheck.type', 'is required: "http" or "tcp"');
  const intervalSec = v.optInt(hc, 'intervalSec', 1, 86_400);
  const timeoutMs = v.optInt(hc, 'timeoutMs', 1, LIMITS.healthTimeoutMs);
  const common = { ...(intervalSec !== undefined && { intervalSec }), ...(timeoutMs !== undefined && { timeoutMs }), ...thresholds(hc) };
  if (type === 'tcp') {
    if (hc.expectStatus !== undefined) throw invalidParams('healthCheck.expectStatus', 'applies to http checks only');
    return { type, ...common };
  }
  const url = v.optString(hc, 'url', { pattern: /^https?:\/\/\S+$/, hint: 'must be an http:// or https:// URL' });
  if (!url) throw invalidParams('healthCheck.url', 'is required for an http check');
  const expectStatus = v.optString(hc, 'expectStatus', { max: 200 });
  const bad = expectStatus === undefined ? null : parseExpectStatus(expectStatus);
  if (typeof bad === 'string') throw invalidParams('healthCheck.expectStatus', bad);
  return { type, url, ...common, ...(expectStatus !== undefined && { expectStatus }) };
}

/** The streak thresholds of a check (each 1..LIMITS.healthThreshold). */
function thresholds(hc: v.Params): CheckThresholds {
  const out: CheckThresholds = {};
  for (const key of ['failuresBeforeUnhealthy', 'successesBeforeHealthy', 'restartAfterFailures'] as const) {
    const n = v.optInt(hc, key, 1, LIMITS.healthThreshold);
    if (n !== undefined) out[key] = n;
  }
  return out;
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
      v.only(p, [
        'name',
        'port',
        'protocol',
        'host',
        'pid',
        'process',
        'healthCheck',
        'tags',
        'range',
        'exclusive',
        'restart',
        'onPortChange',
        'autoResolve',
      ]);
      const range = v.optString(p, 'range');
      const port = v.optPort(p);
      const pid = v.optInt(p, 'pid', 1, 2 ** 31 - 1);
      const proc = v.optString(p, 'process', { max: LIMITS.processChars });
      const hc = healthCheck(p);
      const tags = v.optStringArray(p, 'tags', { ...TAG, max: LIMITS.tags });
      const exclusive = v.optBool(p, 'exclusive');
      const restart = restartAction(p);
      const portChange = onPortChange(p);
      const autoResolve = v.optBool(p, 'autoResolve');
      const name = v.reqString(p, 'name', v.SERVICE_NAME);
      // The command runs as the service's owner: only the owner or root may set one (checked now, and in the lock).
      const check = restart ? restartCheck(app, ctx, name) : ctx.check;
      const protocol = v.protocol(p);
      const host = (await v.optHost(p, app.isLocalAddress)) ?? '0.0.0.0';
      // An update without healthCheck keeps the service's check: it is vetted against the new host too.
      await vetHealthCheck(app, hc === null ? undefined : (hc ?? registry.state.services[name]?.healthCheck), host);
      return register(
        registry,
        allocator,
        {
          name,
          protocol,
          host,
          ...(port !== undefined && { port }),
          ...(range !== undefined && { range }),
          ...(pid !== undefined && { pid }),
          ...(proc !== undefined && { process: proc }),
          ...(hc !== undefined && { healthCheck: hc }),
          ...(tags !== undefined && { tags }),
          ...(exclusive !== undefined && { exclusive }),
          ...creation(ctx),
          ...(restart !== undefined && { restart }),
          ...(portChange !== undefined && { onPortChange: portChange }),
          ...(autoResolve !== undefined && { autoResolve }),
        },
        check,
      );
    },
    'service.list': (p) => {
      v.only(p, ['status', 'tag']);
      const status = v.optEnum(p, 'status', SERVICE_STATUSES);
      const tag = v.optString(p, 'tag');
      return listServices(registry, { ...(status && { status }), ...(tag !== undefined && { tag }) });
    },
    'service.get': async (p, ctx) => {
      v.only(p, ['name']);
      const name = v.reqString(p, 'name');
      const restart = await revealRestart(app, ctx, name);
      const detail = getService(registry, name, app.health.results);
      return restart ? { ...detail, restart } : detail;
    },
    'service.setPort': (p, ctx) => (
      v.only(p, ['name', 'port']),
      setPort(registry, allocator, { name: v.reqString(p, 'name'), port: v.reqPort(p) }, ctx.check)
    ),
    'service.unregister': (p, ctx) => (v.only(p, ['name']), unregister(registry, v.reqString(p, 'name'), ctx.check)),
    'service.restart': async (p) => {
      v.only(p, ['name']);
      const name = v.reqString(p, 'name');
      if (!registry.state.services[name]) throw notFound('service', name);
      return { name, ...(await app.restarter.request(name, 'manual')) };
    },
  };
}
