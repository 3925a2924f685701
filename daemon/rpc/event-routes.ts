// events.* routes: subscriptions on this connection.
import type { App, Routes } from './app.ts';

export function eventRoutes({ bus }: App): Routes<'events.subscribe' | 'events.unsubscribe'> {
  return {
    'events.subscribe': (p, ctx) => bus.subscribe(ctx.conn, p.types, p.sinceSeq),
    'events.unsubscribe': (p, ctx) => bus.unsubscribe(ctx.conn, p.types),
  };
}
