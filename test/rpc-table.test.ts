// The method names in four places agree: the contract's list below
// (PROTOCOL.md "Methods" and its additions), the daemon's route table, the
// schemas (client/schema/), and the README's method table.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PARAMS, RESULTS } from '../client/schema/methods.ts';
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
  // "Additions, second round": caller identity (auth.challenge and auth.prove carry the file challenge), tokens, self-description.
  'auth.whoami',
  'auth.challenge',
  'auth.prove',
  'token.rotate',
  'rpc.discover',
];

/** The methods the README's table under "## Protocol" names (each row: | group | `a`, `b` |). */
function readmeMethods(): string[] {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Protocol\n'));
  const table = section.slice(0, section.indexOf('\n\n', section.indexOf('\n| group') + 1));
  return table
    .split('\n')
    .filter((line) => line.startsWith('| ') && !line.startsWith('| group'))
    .flatMap((line) => [...line.matchAll(/`([a-z]+\.[A-Za-z]+)`/g)].map((m) => m[1]!));
}

describe('the method names', () => {
  const sorted = [...CONTRACT].sort();

  it('the route table routes every method of the contract, and nothing else', () => {
    const table = methodTable({ registry: {} } as unknown as App);
    expect(Object.keys(table).sort()).toEqual(sorted);
  });

  it('every method has a params schema and a result schema, and no other name does', () => {
    expect(Object.keys(PARAMS).sort()).toEqual(sorted);
    expect(Object.keys(RESULTS).sort()).toEqual(sorted);
  });

  it("the README's method table names each of them once", () => {
    const named = readmeMethods();
    expect([...named].sort()).toEqual(sorted);
  });
});
