import { describe, expect, it } from 'vitest';
import type { App } from '../daemon/rpc/app.ts';
import { methodTable } from '../daemon/rpc/table.ts';

// Every method of the contract (PROTOCOL.md "Methods"), in its order.
const CONTRACT = [
  'service.register',
  'service.list',
  'service.get',
  'service.setPort',
  'service.unregister',
  'service.restart',
  'port.list',
  'port.get',
  'port.check',
  'port.allocate',
  'port.release',
  'port.suggest',
  'port.reserve',
  'port.history',
  'range.list',
  'conflict.list',
  'conflict.detect',
  'conflict.resolve',
  'conflict.history',
  'conflict.plan',
  'health.list',
  'health.get',
  'health.check',
  'stats.ports',
  'stats.services',
  'stats.conflicts',
  'stats.series',
  'daemon.status',
  'daemon.ping',
  'daemon.config',
  'events.subscribe',
  'events.unsubscribe',
  // "Additions, second round": caller identity (auth.challenge and auth.prove carry the file challenge) and tokens.
  'auth.whoami',
  'auth.challenge',
  'auth.prove',
  'token.rotate',
];

describe('the method table', () => {
  it('routes every method of the contract, and nothing else', () => {
    const table = methodTable({ registry: {} } as unknown as App);
    expect(Object.keys(table).sort()).toEqual([...CONTRACT].sort());
  });
});
