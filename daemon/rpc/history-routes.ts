// port.history: who got, moved, released and reserved which port, newest first.
import { LIMITS } from '../../client/protocol.ts';
import { listHistory } from '../ops/history.ts';
import type { App, Routes } from './app.ts';
import { time } from './validate.ts';

export function historyRoutes(app: App): Routes<'port.history'> {
  return {
    'port.history': ({ since, limit, ...p }) => {
      const from = time(since, 'since');
      return listHistory(
        app.registry,
        { ...p, limit: limit ?? LIMITS.historyDefault, ...(from !== undefined && { since: from }) },
        app.user,
      );
    },
  };
}
