// events.* routes: subscriptions on this connection.
import { EVENT_TYPES } from '../../client/protocol.ts';
import type { App, Routes } from './app.ts';
import * as v from './validate.ts';

export function eventRoutes({ bus }: App): Routes<'events.subscribe' | 'events.unsubscribe'> {
  return {
    'events.subscribe': (p, ctx) => {
      v.only(p, ['types', 'sinceSeq']);
      const types = v.optEnumArray(p, 'types', EVENT_TYPES);
      return bus.subscribe(ctx.conn, types, v.optInt(p, 'sinceSeq', 0, Number.MAX_SAFE_INTEGER));
    },
    'events.unsubscribe': (p, ctx) => (v.only(p, ['types']), bus.unsubscribe(ctx.conn, v.optEnumArray(p, 'types', EVENT_TYPES))),
  };
}
