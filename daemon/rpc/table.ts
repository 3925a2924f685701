// The method table: each handler validates its params, calls one operation,
// and returns the contract's result. Errors thrown here are DomainErrors;
// transport/jsonrpc.ts maps them (and anything unexpected) onto the wire.
// One file per group of the contract.
import type { App, RouteTable } from './app.ts';
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
  };
}
