// conflict.* routes.
import type { Strategy } from '../../client/protocol.ts';
import { conflictHistory, listConflicts, resolve } from '../ops/conflicts.ts';
import { invalidParams } from '../core/errors.ts';
import type { App, MethodsOf, Routes } from './app.ts';
import * as v from './validate.ts';

const STRATEGIES: readonly Strategy[] = ['auto', 'manual', 'swap', 'reserve'];

export function conflictRoutes(app: App): Routes<MethodsOf<'conflict'>> {
  const { registry, allocator } = app;
  return {
    'conflict.list': (p) => (v.only(p, ['open']), listConflicts(registry, v.optBool(p, 'open') ?? true)),
    'conflict.detect': (p) => (v.only(p, []), app.detect()),
    'conflict.resolve': (p) => {
      v.only(p, ['service', 'conflictId', 'strategy', 'newPort', 'withService', 'by']);
      const strategy = v.optEnum(p, 'strategy', STRATEGIES);
      if (!strategy) throw invalidParams('strategy', `is required: one of ${STRATEGIES.join(', ')}`);
      const service = v.optString(p, 'service');
      const conflictId = v.optString(p, 'conflictId');
      if (service === undefined && conflictId === undefined) throw invalidParams('service', 'is required unless conflictId is given');
      const newPort = v.optPort(p, 'newPort');
      const withService = v.optString(p, 'withService');
      return resolve(registry, allocator, {
        strategy,
        by: v.optString(p, 'by', { max: 100 }) ?? 'operator',
        ...(service !== undefined && { service }),
        ...(conflictId !== undefined && { conflictId }),
        ...(newPort !== undefined && { newPort }),
        ...(withService !== undefined && { withService }),
      });
    },
    'conflict.history': (p) => {
      v.only(p, ['limit', 'since']);
      const since = v.optString(p, 'since');
      if (since !== undefined && Number.isNaN(Date.parse(since))) throw invalidParams('since', 'must be an ISO-8601 date or time');
      return conflictHistory(registry, { limit: v.optInt(p, 'limit', 1, 10_000) ?? 100, ...(since !== undefined && { since }) });
    },
  };
}
