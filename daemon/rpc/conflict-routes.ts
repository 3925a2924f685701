// conflict.* routes.
import { LIMITS } from '../../client/protocol.ts';
import { conflictHistory, listConflicts, resolve } from '../ops/conflicts.ts';
import { readResolveRequest } from '../core/resolve-request.ts';
import { callerName, creation } from '../access/guard.ts';
import type { App, MethodsOf, Routes } from './app.ts';
import { time } from './validate.ts';

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
