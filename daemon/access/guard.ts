// Authorization as a layer around the route table (as withAudit and
// withTiming are): a mutating call needs an identified caller, passes the
// rate limit, and may act only on what its caller owns, unless the caller
// is an admin or presents the target's token. The routes below never see
// `token`; a call that creates a service or reservation gets one, returned
// once and stored hashed.
import * as crypto from 'node:crypto';
import { MUTATING_METHODS } from '../../client/protocol.ts';
import { isAdmin, ownerFor, refusal, type Caller } from '../core/access.ts';
import { unidentified } from '../core/errors.ts';
import type { Precondition, Registry } from '../registry.ts';
import type { Connection } from '../transport/server.ts';
import type { Callers } from './callers.ts';
import type { Limiter } from './limiter.ts';
import { RULES, type Rule } from './targets.ts';

type Handler<C> = (params: Record<string, unknown>, ctx: C) => unknown;

/** What the layer adds to a call's context for the route. */
export interface AccessContext {
  conn: Connection;
  /** Set for every mutating call: who is calling. */
  caller?: Caller;
  /** Set for a call that may create a record: the token it gets if it does. */
  grant?: Grant;
  /** Set for every mutating call: the route hands it to its registry mutation, which checks it again inside the lock. */
  check?: Precondition;
  /** Set for a caller who is not an admin: how many services and reservations it may own (limits.maxPortsPerUser). */
  quota?: number;
}

export interface Grant {
  token: string;
  hash: string;
}

/** crypto.hash (Node 20.12+) hashes in one call, without a Hash object per token; engines allow 20.6, which lacks it. */
const oneShot: ((algorithm: string, data: string) => string) | undefined = (
  crypto as { hash?: (algorithm: string, data: string) => string }
).hash;

export function hashToken(token: string): string {
  return oneShot ? oneShot('sha256', token) : crypto.createHash('sha256').update(token).digest('hex');
}

const TOKEN_BYTES = 24;
/**
 * Token randomness is drawn for 128 tokens at a time, as crypto.randomUUID
 * does for its own: a batch of a thousand registers created a thousand
 * tokens, each with a draw of its own.
 */
let pool = Buffer.alloc(0);
let poolAt = 0;

function tokenBytes(): Buffer {
  if (poolAt + TOKEN_BYTES > pool.length) {
    pool = crypto.randomBytes(TOKEN_BYTES * 128);
    poolAt = 0;
  }
  const bytes = pool.subarray(poolAt, poolAt + TOKEN_BYTES);
  poolAt += TOKEN_BYTES;
  return bytes;
}

export function newGrant(): Grant {
  const token = `pmt_${tokenBytes().toString('base64url')}`;
  return { token, hash: hashToken(token) };
}

/** What a creating route records: the owner, and the hash of the token the call will return; and the owner's quota. */
export function creation(ctx: AccessContext): { owner?: { uid: number; user?: string }; tokenHash?: string; quota?: number } {
  return {
    ...(ctx.caller && { owner: ownerFor(ctx.caller) }),
    ...(ctx.grant && { tokenHash: ctx.grant.hash }),
    ...(ctx.quota !== undefined && { quota: ctx.quota }),
  };
}

/** The caller's name for records that say who did something (conflict.resolve's `by`). */
export function callerName(ctx: AccessContext): string | undefined {
  return ctx.caller && (ctx.caller.user ?? String(ctx.caller.uid));
}

export interface GuardDeps {
  callers: Callers;
  limiter: Limiter;
  registry: Registry;
  /** limits.maxPortsPerUser: what one user who is not an admin may own (services and reservations). */
  maxPortsPerUser: number;
}

export function withAccess<C extends AccessContext>(deps: GuardDeps, methods: Record<string, Handler<C>>): Record<string, Handler<C>> {
  const out: Record<string, Handler<C>> = { ...methods };
  const { callers, limiter, registry, maxPortsPerUser } = deps;
  for (const name of MUTATING_METHODS) {
    const handler = methods[name];
    // Its params passed the method's schema (rpc/params.ts wraps this layer): the rule may read them as typed.
    const rule = RULES[name] as Rule<never> | undefined;
    if (!handler) continue;
    out[name] = async (params, ctx) => {
      // Copied only to take `token` out (routes refuse params they do not know): most calls carry none.
      const { token, rest } = Object.hasOwn(params, 'token') ? splitToken(params) : { token: undefined, rest: params };
      const presented = tokenHashes(token);
      // Known after the connection's first call: no await (and its promise) for each of a batch's calls.
      const caller = callers.known(ctx.conn) ?? (await callers.identify(ctx.conn));
      if (!caller) throw unidentified();
      limiter.take(caller.uid);
      const authorize: Precondition = Object.assign(
        (state: Parameters<Precondition>[0], index: Parameters<Precondition>[1], now: number) => {
          if (!rule) return;
          const no = refusal(caller, rule.targets(rest as never, { state, index, now }), rule.ownerOnly ? [] : presented, callers.policy);
          if (no) throw no;
        },
        // The history lines this call adds name its caller (port.history's `by`).
        { by: caller.user ?? String(caller.uid) },
      );
      // Refused at once when the state says so now; and again inside the lock, where it cannot change before the call acts.
      authorize(registry.state, registry.index, registry.now());
      const grant = rule?.created ? newGrant() : undefined;
      // A context of its own: the calls of one batch share the connection's.
      // Admins (root, the daemon's user, the admin group) own without a limit: they administer the ports.
      const quota = isAdmin(caller, callers.policy) ? undefined : maxPortsPerUser;
      const result = await handler(rest, {
        ...ctx,
        caller,
        check: authorize,
        ...(grant && { grant }),
        ...(quota !== undefined && { quota }),
      });
      if (grant && rule!.created!(rest as never, registry.state, grant.hash) && result !== null && typeof result === 'object')
        return { ...result, token: grant.token };
      return result;
    };
  }
  return out;
}

function splitToken(params: Record<string, unknown>): { token: unknown; rest: Record<string, unknown> } {
  const { token, ...rest } = params;
  return { token, rest };
}

/** The `token` param (its schema, client/schema/common.ts, has bounded it): as hashes, to compare with what is stored. */
function tokenHashes(token: unknown): string[] {
  if (token === undefined) return [];
  return (Array.isArray(token) ? (token as string[]) : [token as string]).map(hashToken);
}
