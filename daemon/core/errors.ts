// Domain errors: each carries a code from the contract and the `data` object
// a client sees. Only transport/jsonrpc.ts turns them into JSON-RPC error responses.
import { ErrorCode, type ErrorCodeValue, type HeldBy } from '../../client/protocol.ts';

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCodeValue,
    message: string,
    readonly data: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

/** -32602: a parameter failed validation. */
export function invalidParams(field: string, problem: string): DomainError {
  return new DomainError(ErrorCode.InvalidParams, `invalid params: ${field} ${problem}`, { field, problem });
}

/** -32001: no such service, port record or conflict. */
export function notFound(kind: string, key: string | number): DomainError {
  return new DomainError(ErrorCode.NotFound, `no ${kind} ${JSON.stringify(key)}`, { kind, key });
}

/** -32002: the port is held, reserved or listened on. */
export function portUnavailable(port: number, reason: string, heldBy: HeldBy): DomainError {
  return new DomainError(ErrorCode.PortUnavailable, `port ${port} is unavailable: ${reason}`, { port, reason, heldBy });
}

/** -32003: nothing left to allocate in the range. */
export function rangeExhausted(range: string): DomainError {
  return new DomainError(ErrorCode.RangeExhausted, `no free port left in range ${range}`, { range });
}

/** -32006: the strategy cannot resolve this conflict. */
export function cannotResolve(reason: string): DomainError {
  return new DomainError(ErrorCode.CannotResolve, `cannot resolve: ${reason}`, { reason });
}

/** -32004: the caller may not act on that service or port; `data` names it and its owner. */
export function permissionDenied(
  message: string,
  data: { service?: string; port?: number; owner: { uid: number; user?: string } },
): DomainError {
  return new DomainError(ErrorCode.PermissionDenied, `permission denied: ${message}`, data);
}

/**
 * -32004 before any ownership question: the daemon could not tell who is
 * calling. `challenge: true` tells the client that auth.challenge and
 * auth.prove can establish it.
 */
export function unidentified(): DomainError {
  return new DomainError(
    ErrorCode.PermissionDenied,
    'permission denied: the daemon could not establish who is calling; prove it with auth.challenge and auth.prove',
    {
      reason: 'unidentified',
      challenge: true,
    },
  );
}

/** -32005: too many mutating calls from this caller; try again after `retryAfterMs`. */
export function rateLimited(retryAfterMs: number, limit: string): DomainError {
  return new DomainError(ErrorCode.RateLimited, `rate limited: ${limit}; retry after ${retryAfterMs} ms`, { retryAfterMs, limit });
}

/**
 * -32005 with `data.limit` "maxPortsPerUser": a user already owns as many
 * services and reservations as one user may. Waiting does not help (no
 * retryAfterMs, so the client library does not retry): releasing does.
 */
export function overPortQuota(owner: { uid: number; user?: string }, held: number, max: number): DomainError {
  const who = owner.user ?? `uid ${owner.uid}`;
  return new DomainError(
    ErrorCode.RateLimited,
    `limit reached: ${who} owns ${held} services and reservations, the most one user may (limits.maxPortsPerUser = ${max}); release ports you no longer use (portmand release, port.release, service.unregister), or ask an admin to raise the limit`,
    { limit: 'maxPortsPerUser', max, held, owner },
  );
}
