// The method table: each handler validates its params, calls one operation,
// and returns the contract's result. Errors thrown here are DomainErrors;
// jsonrpc.ts maps them (and anything unexpected) onto the wire. The routes
// live in rpc/, one file per group of the contract.
import type { Conflict, HealthResult, Methods } from '../client/protocol.ts';
import type { EventBus } from './events.ts';
import type { Handler } from './jsonrpc.ts';
import type { Registry } from './registry.ts';
import { conflictRoutes } from './rpc/conflicts.ts';
import { observeRoutes } from './rpc/observe.ts';
import { portRoutes } from './rpc/ports.ts';
import { serviceRoutes } from './rpc/services.ts';
import type { Connection } from './server.ts';

export interface RpcContext {
  conn: Connection;
}

export interface App {
  registry: Registry;
  bus: EventBus;
  version: string;
  startedAt: number;
  socketPath: string;
  stateFile: string;
  /** Scans now, reconciles, and returns the open conflicts. */
  detect: () => Promise<Conflict[]>;
  /** Runs the health checks of the named services (all with one when none are named) now. */
  checkHealth: (names?: string[]) => Promise<HealthResult[]>;
}

/** A group of routes: method name -> handler. */
export type Routes = { [M in keyof Methods]?: Handler<RpcContext> };

export function methodTable(app: App): Routes {
  return { ...serviceRoutes(app), ...portRoutes(app), ...conflictRoutes(app), ...observeRoutes(app) };
}
