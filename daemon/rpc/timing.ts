// Feeds every routed call's duration to the request statistics of
// daemon.status. It wraps the method table (as log.ts's withAudit does), so
// only routed names are ever counted: a client inventing method names cannot
// grow the table.
import type { RequestStats } from '../core/request-stats.ts';

type Handler<C> = (params: Record<string, unknown>, ctx: C) => unknown;

export function withTiming<C>(stats: RequestStats, now: () => number, methods: Record<string, Handler<C>>): Record<string, Handler<C>> {
  const out: Record<string, Handler<C>> = {};
  for (const [name, handler] of Object.entries(methods)) {
    // No async frame of its own: a batch of thousands paid one more promise and await per call for it.
    out[name] = (params, ctx) => {
      const t0 = performance.now();
      const done = () => stats.record(name, performance.now() - t0, now());
      let result: unknown;
      try {
        result = handler(params, ctx);
      } catch (err) {
        done();
        throw err;
      }
      if (!(result instanceof Promise)) {
        done();
        return result;
      }
      return result.finally(done);
    };
  }
  return out;
}
