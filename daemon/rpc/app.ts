// What the routes receive, and the types that make the route table complete:
// every method of the contract must have a handler, and each handler must
// return that method's result. The compiler checks both.
import type { AutoResolvePlan, Conflict, MethodName, ResultOf } from '../../client/protocol.ts';
import type { CheckTarget } from '../core/health.ts';
import type { RequestStats } from '../core/request-stats.ts';
import type { EventBus } from '../events.ts';
import type { HealthResults } from '../health.ts';
import type { Registry } from '../registry.ts';
import type { Restarter } from '../restarter.ts';
import type { Connection } from '../transport/server.ts';
import type { LocalAddressCheck, Params } from './validate.ts';

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
  journalFile: string;
  /** The daemon's user name: who a history line names when it recorded no caller. */
  user: string;
  /** Requests per method, fed by rpc/timing.ts. */
  requests: RequestStats;
  /** Scans now, reconciles, and returns the open conflicts. */
  detect: () => Promise<Conflict[]>;
  /** The health monitor: its results, and checks on demand. */
  health: HealthResults;
  /** Why a health check may not probe this target (not this host's, unresolvable, ...), or null. */
  healthTargetRefusal: (target: CheckTarget) => Promise<string | null>;
  /** Whether a `host` param is an address of this host. */
  isLocalAddress: LocalAddressCheck;
  /** Runs restart actions (service.restart). */
  restarter: Pick<Restarter, 'request'>;
  /** What the automatic resolution policy would do now. */
  conflictPlan: () => AutoResolvePlan;
  /** Why a restart action may not be set now (others can connect and callers are not identified yet), or null. */
  restartRefusal: () => string | null;
}

/** One method's handler: raw named params in (validated here), the contract's result out. */
export type Route<M extends MethodName> = (params: Params, ctx: RpcContext) => ResultOf<M> | Promise<ResultOf<M>>;

/** A group of routes for the methods `M`. */
export type Routes<M extends MethodName> = { [K in M]: Route<K> };

/** Every method of the contract. */
export type RouteTable = Routes<MethodName>;

/** The methods whose names start with `group.`. */
export type MethodsOf<G extends string> = Extract<MethodName, `${G}.${string}`>;
