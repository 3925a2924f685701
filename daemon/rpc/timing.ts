// Feeds every routed call's duration to the request statistics of
// daemon.status. It wraps the method table (as log.ts's withAudit does), so
// only routed names are ever counted: a client inventing method names cannot
// grow the table.
import type { RequestStats } from '../core/request-stats.ts';

type Handler<C> = (params: Record<string, unknown>, ctx: C) => unknown;

export function withTiming<C>(stats: RequestStats, now: () => number, methods: Record<string, Handler<C>>): Record<string, Handler<C>> {
  const out: Record<string, Handler<C>> = {};
  for (const [name, handler] of Object.entries(methods)) {
    out[name] = async (params, ctx) => {
      const t0 = performance.now();
      try {
        return await handler(params, ctx);
      } finally {
        stats.record(name, performance.now() - t0, now());
      }
    };
  }
  return out;
}
