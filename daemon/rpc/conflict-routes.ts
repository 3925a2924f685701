// conflict.* routes.
import { LIMITS, type ParamsOf } from '../../client/protocol.ts';
import { conflictHistory, listConflicts, resolve } from '../ops/conflicts.ts';
import { invalidParams } from '../core/errors.ts';
import type { ResolveRequest } from '../core/resolve.ts';
import { callerName, creation } from '../access/guard.ts';
import type { App, MethodsOf, Routes } from './app.ts';
import { time } from './validate.ts';

/**
 * conflict.resolve's params (already checked against their schema) as
 * core/resolve.ts takes them: which params a strategy needs is a rule across
 * fields, checked here. The access layer reads them with this too.
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

export function conflictRoutes(app: App): Routes<MethodsOf<'conflict'>> {
  const { registry, allocator } = app;
  return {
    'conflict.list': (p) => listConflicts(registry, p.open ?? true),
    'conflict.detect': () => app.detect(),
    // `by` is the caller as the daemon established it, never a name the client sends.
    'conflict.resolve': (p, ctx) =>
      resolve(registry, allocator, readResolveRequest(p, callerName(ctx) ?? app.user), ctx.check, creation(ctx)),
    'conflict.plan': () => app.conflictPlan(),
    'conflict.history': ({ limit, since }) => {
      time(since, 'since');
      return conflictHistory(registry, { limit: limit ?? LIMITS.historyDefault, ...(since !== undefined && { since }) });
    },
  };
}
