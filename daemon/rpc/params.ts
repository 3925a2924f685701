// Params validation at the edge: a call whose params do not fit its method's
// schema (client/schema/) gets -32602 with `field` and `problem` and reaches
// nothing behind this layer (access, routes, registry).
//
// The checks are generated ahead of time (checks.generated.ts, `npm run gen`),
// so starting the daemon loads no TypeBox: its compiler and the schemas cost
// about 180 ms of CPU to import. They are loaded on the first refusal only,
// to word it (refusal.ts); a request that fits never waits for them.
import type { MethodName } from '../../client/protocol.ts';
import { invalidParams } from '../core/errors.ts';
import type { Refusal } from './schema-errors.ts';

type Handler<C> = (params: Record<string, unknown>, ctx: C) => unknown;

/** A method's params check: true when they fit. */
export type ParamsCheck = (params: unknown) => boolean;

let explainer: Promise<typeof import('./refusal.ts')> | undefined;

/** Where a failure to load the wording is reported. */
export interface ParamsLog {
  error(obj: object, msg: string): void;
}

/** The refusal when its wording cannot be loaded: the params are still refused, as -32602. */
const UNWORDED: Refusal = { field: 'params', problem: "do not fit this method's schema (rpc.discover describes it)" };

/**
 * What is wrong with params their method's check refused, worded from its
 * schema. If the wording cannot be loaded (EMFILE, a broken install), the
 * refusal is UNWORDED and the next one loads again: a failed import must not
 * turn every later refusal of client input into an internal error.
 */
export async function refusalOf(method: MethodName, params: unknown, log?: ParamsLog): Promise<Refusal> {
  const loading = (explainer ??= import('./refusal.ts'));
  let explain: typeof import('./refusal.ts');
  try {
    explain = await loading;
  } catch (err) {
    if (explainer === loading) explainer = undefined;
    log?.error({ err }, 'cannot load the wording of params refusals (rpc/refusal.ts); answering a generic -32602');
    return UNWORDED;
  }
  return explain.refusalOf(method, params);
}

async function refuse(method: MethodName, params: unknown, log: ParamsLog | undefined): Promise<never> {
  const { field, problem } = await refusalOf(method, params, log);
  throw invalidParams(field, problem);
}

/** Wraps each method with its params check; a method without one is left out (the route table has one for each). */
export function withParams<C>(
  checks: Partial<Record<string, ParamsCheck>>,
  methods: Record<string, Handler<C>>,
  log?: ParamsLog,
): Record<string, Handler<C>> {
  const out: Record<string, Handler<C>> = {};
  for (const [name, handler] of Object.entries(methods)) {
    const check = checks[name];
    if (!check) throw new Error(`no params schema for ${name}`);
    // A refusal is a rejected promise (its wording may wait for the schemas to load); a call that fits runs as the handler does.
    out[name] = (params, ctx) => (check(params) ? handler(params, ctx) : refuse(name as MethodName, params, log));
  }
  return out;
}
