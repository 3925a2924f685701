// events.* routes: subscriptions on this connection.
import type { App, Routes } from './app.ts';
import * as v from './validate.ts';

export function eventRoutes({ bus }: App): Routes<'events.subscribe' | 'events.unsubscribe'> {
  return {
    'events.subscribe': (p, ctx) => {
      v.only(p, ['types', 'sinceSeq']);
      return bus.subscribe(ctx.conn, p.types, p.sinceSeq);
    },
    'events.unsubscribe': (p, ctx) => (v.only(p, ['types']), bus.unsubscribe(ctx.conn, p.types)),
  };
}
