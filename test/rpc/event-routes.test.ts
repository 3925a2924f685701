import { describe, expect, it } from 'vitest';
import { EVENT_TYPES } from '../../client/protocol.ts';
import { DomainError } from '../../daemon/core/errors.ts';
import { EventBus } from '../../daemon/events.ts';
import type { App } from '../../daemon/rpc/app.ts';
import { eventRoutes } from '../../daemon/rpc/event-routes.ts';
import { withParams } from '../../daemon/rpc/params.ts';
import { untyped } from '../../daemon/rpc/table.ts';
import { CHECKS } from '../../daemon/rpc/checks.generated.ts';
import type { Connection } from '../../daemon/transport/server.ts';

function fakeConn(): Connection {
  return { id: 1, subscriptions: new Set(), closed: false, notify() {}, close() {}, refuse() {} };
}

/** Deeply nested arrays: printing one in an error message overflowed the stack (-32603). */
function nested(depth: number): unknown {
  let v: unknown = [];
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

/** What a call threw or rejected with (the params layer rejects), else null. */
async function refusal(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (e) {
    return e;
  }
  return null;
}

describe('events.subscribe and events.unsubscribe validate their params', () => {
  // As the daemon runs them: behind the params layer.
  const routes = withParams(CHECKS, untyped<{ conn: Connection }>(eventRoutes({ bus: new EventBus(() => 0) } as unknown as App)));

  it.each([
    ['an unknown type', { types: ['nope'] }, 'types'],
    ['a non-string type', { types: [5] }, 'types'],
    ['types not an array', { types: 'port_assigned' }, 'types'],
    ['deeply nested types', { types: nested(100_000) }, 'types'],
    ['a deeply nested entry', { types: ['port_assigned', nested(100_000)] }, 'types'],
    ['a negative sinceSeq', { sinceSeq: -1 }, 'sinceSeq'],
    ['a fractional sinceSeq', { sinceSeq: 1.5 }, 'sinceSeq'],
    ['a string sinceSeq', { sinceSeq: '3' }, 'sinceSeq'],
  ])('subscribe refuses %s with -32602 on its field and subscribes to nothing', async (_name, params, field) => {
    const conn = fakeConn();
    const err = await refusal(() => routes['events.subscribe']!(params, { conn }));
    expect(err).toBeInstanceOf(DomainError);
    expect(err).toMatchObject({ code: -32602, data: { field } });
    expect(conn.subscriptions.size).toBe(0);
  });

  it('unsubscribe refuses nested types with -32602 and keeps the subscriptions', async () => {
    const conn = fakeConn();
    routes['events.subscribe']!({}, { conn });
    const err = await refusal(() => routes['events.unsubscribe']!({ types: nested(100_000) }, { conn }));
    expect(err).toMatchObject({ code: -32602, data: { field: 'types' } });
    expect(conn.subscriptions.size).toBe(EVENT_TYPES.length);
  });

  it('passes typed values on', () => {
    const conn = fakeConn();
    expect(routes['events.subscribe']!({ types: ['port_assigned'], sinceSeq: 0 }, { conn })).toMatchObject({
      subscribed: ['port_assigned'],
      seq: 0,
    });
  });
});
