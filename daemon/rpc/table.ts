// The method table: each handler takes its params (checked against the
// method's schema by rpc/params.ts before they get here), calls one
// operation, and returns the contract's result. Errors thrown here are
// DomainErrors; transport/jsonrpc.ts maps them (and anything unexpected) onto
// the wire. One file per group of the contract.
import type { App, RouteTable } from './app.ts';
import { discoverRoutes } from './discover.ts';
import { authRoutes } from './auth-routes.ts';
import { conflictRoutes } from './conflict-routes.ts';
import { daemonRoutes } from './daemon-routes.ts';
import { eventRoutes } from './event-routes.ts';
import { healthRoutes } from './health-routes.ts';
import { historyRoutes } from './history-routes.ts';
import { portRoutes } from './port-routes.ts';
import { seriesRoutes } from './series-routes.ts';
import { serviceRoutes } from './service-routes.ts';
import { statsRoutes } from './stats-routes.ts';

export function methodTable(app: App): RouteTable {
  return {
    ...serviceRoutes(app),
    ...portRoutes(app),
    ...historyRoutes(app),
    ...conflictRoutes(app),
    ...healthRoutes(app),
    ...statsRoutes(app),
    ...seriesRoutes(app),
    ...daemonRoutes(app),
    ...eventRoutes(app),
    ...authRoutes(app),
    ...discoverRoutes(app),
  };
}

/**
 * The table as the layers around it (access, audit, timing) see it: any
 * params in. Sound only inside rpc/params.ts's withParams, which lets through
 * only params that fit each method's schema, that is, its ParamsOf type.
 */
export function untyped<C>(table: Partial<RouteTable>): Record<string, (params: Record<string, unknown>, ctx: C) => unknown> {
  return table as unknown as Record<string, (params: Record<string, unknown>, ctx: C) => unknown>;
}
