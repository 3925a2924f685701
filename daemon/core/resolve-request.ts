// conflict.resolve's params as core/resolve.ts takes them. A pure reading of
// the wire params, below both the route (rpc/conflict-routes.ts) and the
// access layer (access/targets.ts), which reads them to find what a resolve
// would touch: neither imports the other for it.
import type { ParamsOf } from '../../client/protocol.ts';
import { invalidParams } from './errors.ts';
import type { ResolveRequest } from './resolve.ts';

/**
 * conflict.resolve's params (already checked against their schema) as
 * core/resolve.ts takes them: which params a strategy needs is a rule across
 * fields that the schema cannot state, checked here.
 */
export function readResolveRequest(p: ParamsOf<'conflict.resolve'>, by: string): ResolveRequest {
  const { strategy, service, conflictId, newPort, withService } = p;
  const target =
    service !== undefined ? { service, ...(conflictId !== undefined && { conflictId }) } : conflictId !== undefined ? { conflictId } : null;
  if (!target) throw invalidParams('service', 'is required unless conflictId is given');
  switch (strategy) {
    case 'manual':
      if (newPort === undefined) throw invalidParams('newPort', 'is required for strategy manual');
      return { ...target, strategy, newPort, by };
    case 'swap':
      if (withService === undefined) throw invalidParams('withService', 'is required for strategy swap');
      return { ...target, strategy, withService, by };
    default:
      return { ...target, strategy, by };
  }
}
