// port.history: who got, moved, released and reserved which port, newest first.
import { invalidParams } from '../core/errors.ts';
import { listHistory } from '../ops/history.ts';
import type { App, Routes } from './app.ts';
import * as v from './validate.ts';

export function historyRoutes(app: App): Routes<'port.history'> {
  return {
    'port.history': (p) => {
      v.only(p, ['service', 'port', 'since', 'limit']);
      const service = v.optString(p, 'service', v.SERVICE_NAME);
      const port = v.optPort(p);
      const sinceText = v.optString(p, 'since', { max: 64 });
      const since = sinceText === undefined ? undefined : Date.parse(sinceText);
      if (since !== undefined && Number.isNaN(since)) throw invalidParams('since', 'must be an ISO-8601 date or time');
      const limit = v.optInt(p, 'limit', 1, 10_000) ?? 100;
      return listHistory(
        app.registry,
        { limit, ...(service !== undefined && { service }), ...(port !== undefined && { port }), ...(since !== undefined && { since }) },
        app.user,
      );
    },
  };
}
