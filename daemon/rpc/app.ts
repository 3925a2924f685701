// What the routes receive, and the types that make the route table complete:
// every method of the contract must have a handler, and each handler must
// return that method's result. The compiler checks both.
import type { Conflict, HealthResult, MethodName, ResultOf } from '../../client/protocol.ts';
import type { EventBus } from '../events.ts';
import type { Allocator } from '../ops/allocator.ts';
import type { Reconciler } from '../ops/reconciler.ts';
import type { Registry } from '../registry.ts';
import type { Connection } from '../transport/server.ts';
import type { Params } from './validate.ts';

export interface RpcContext {
  conn: Connection;
}

export interface App {
  registry: Registry;
  allocator: Allocator;
  reconciler: Reconciler;
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

/** One method's handler: raw named params in (validated here), the contract's result out. */
export type Route<M extends MethodName> = (params: Params, ctx: RpcContext) => ResultOf<M> | Promise<ResultOf<M>>;

/** A group of routes for the methods `M`. */
export type Routes<M extends MethodName> = { [K in M]: Route<K> };

/** Every method of the contract. */
export type RouteTable = Routes<MethodName>;

/** The methods whose names start with `group.`. */
export type MethodsOf<G extends string> = Extract<MethodName, `${G}.${string}`>;
