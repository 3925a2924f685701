// conflict.* routes.
import { LIMITS, STRATEGIES } from '../../client/protocol.ts';
import { conflictHistory, listConflicts, resolve } from '../ops/conflicts.ts';
import { invalidParams } from '../core/errors.ts';
import type { ResolveRequest } from '../core/resolve.ts';
import { callerName } from '../access/guard.ts';
import type { App, MethodsOf, Routes } from './app.ts';
import * as v from './validate.ts';

/** conflict.resolve's params as core/resolve.ts takes them; the access layer reads them with this too. */
export function readResolveRequest(p: v.Params, by: string): ResolveRequest {
  v.only(p, ['service', 'conflictId', 'strategy', 'newPort', 'withService']);
  const strategy = v.optEnum(p, 'strategy', STRATEGIES);
  if (!strategy) throw invalidParams('strategy', `is required: one of ${STRATEGIES.join(', ')}`);
  const service = v.optString(p, 'service');
  const conflictId = v.optString(p, 'conflictId');
  const newPort = v.optPort(p, 'newPort');
  const withService = v.optString(p, 'withService');
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
    'conflict.list': (p) => (v.only(p, ['open']), listConflicts(registry, v.optBool(p, 'open') ?? true)),
    'conflict.detect': (p) => (v.only(p, []), app.detect()),
    // `by` is the caller as the daemon established it, never a name the client sends.
    'conflict.resolve': (p, ctx) => resolve(registry, allocator, readResolveRequest(p, callerName(ctx) ?? app.user), ctx.check),
    'conflict.plan': (p) => (v.only(p, []), app.conflictPlan()),
    'conflict.history': (p) => {
      v.only(p, ['limit', 'since']);
      const since = v.optString(p, 'since');
      if (since !== undefined && Number.isNaN(Date.parse(since))) throw invalidParams('since', 'must be an ISO-8601 date or time');
      return conflictHistory(registry, {
        limit: v.optInt(p, 'limit', 1, LIMITS.historyLimit) ?? LIMITS.historyDefault,
        ...(since !== undefined && { since }),
      });
    },
  };
}
