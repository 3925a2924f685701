// What the routes receive, and the types that make the route table complete:
// every method of the contract must have a handler, and each handler must
// return that method's result. The compiler checks both.
import type { AutoResolvePlan, Conflict, EffectiveConfig, MethodName, Owner, ParamsOf, ResultOf } from '../../client/protocol.ts';
import type { CheckTarget } from '../core/health.ts';
import type { RequestStats } from '../core/request-stats.ts';
import type { EventBus } from '../events.ts';
import type { HealthResults } from '../health/monitor.ts';
import type { Allocator } from '../ops/allocator.ts';
import type { Reconciler } from '../ops/reconciler.ts';
import type { Registry } from '../registry.ts';
import type { AccessContext } from '../access/guard.ts';
import type { Callers } from '../access/callers.ts';
import type { Restarter } from '../act/restarter.ts';
import type { LocalAddressCheck } from './validate.ts';

/** A call's context: its connection, and (for mutating calls) its caller, set by the access layer. */
export type RpcContext = AccessContext;

export interface App {
  registry: Registry;
  allocator: Allocator;
  reconciler: Reconciler;
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
  /** The configuration the daemon started with, each value with its source (daemon.config). */
  config: EffectiveConfig;
  /** Each connection's caller (daemon/access/callers.ts). */
  callers: Callers;
  /** Runs restart actions (service.restart). */
  restarter: Pick<Restarter, 'request'>;
  /** What the automatic resolution policy would do now. */
  conflictPlan: () => AutoResolvePlan;
  /** Why this call may not set a restart action on `service` (undefined: a new one; the command runs as its owner), or null. */
  restartRefusal: (ctx: AccessContext, service: { owner?: Owner } | undefined) => string | null;
}

/**
 * One method's handler: its params, already checked against the method's
 * schema (rpc/params.ts, outside the access layer), in; the contract's result out.
 */
export type Route<M extends MethodName> = (params: ParamsOf<M>, ctx: RpcContext) => ResultOf<M> | Promise<ResultOf<M>>;

/** A group of routes for the methods `M`. */
export type Routes<M extends MethodName> = { [K in M]: Route<K> };

/** Every method of the contract. */
export type RouteTable = Routes<MethodName>;

/** The methods whose names start with `group.`. */
export type MethodsOf<G extends string> = Extract<MethodName, `${G}.${string}`>;
