// A Registry over an in-memory store, for tests of what runs under the
// mutation lock: the journal is an array of the ops written, in order.
import { emptyState, type Op, type State } from '../daemon/core/state.ts';
import { Registry } from '../daemon/registry.ts';

export function memoryRegistry(now: () => number, state: State = emptyState()): { registry: Registry; journal: Op[] } {
  const journal: Op[] = [];
  const registry = new Registry({
    store: { state, append: async (ops) => void journal.push(...ops) },
    publish: () => undefined,
    now,
    onFatal: (err) => {
      throw err;
    },
  });
  return { registry, journal };
}
