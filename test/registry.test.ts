// The registry's mutation lock against the event loop: a long run of queued
// mutations (one JSON-RPC batch of thousands of registers) must let other
// work (a ping on another connection, a SIGTERM, a scan) in between.
import { describe, expect, it } from 'vitest';
import { emptyState } from '../daemon/core/state.ts';
import { Registry } from '../daemon/registry.ts';

function registry(): Registry {
  const state = emptyState();
  return new Registry({ store: { state, append: async () => undefined }, publish: () => {}, now: Date.now, onFatal: () => {} });
}

/** Holds the thread for at least `ms`, as a costly mutation at scale does. */
function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe('Registry.mutate', () => {
  it('lets the event loop run during a long queue of mutations, keeping their order', async () => {
    const r = registry();
    const done: number[] = [];
    let seenByOtherWork = -1;
    const queued = Array.from({ length: 40 }, (_, i) =>
      r.mutate(() => {
        busy(5);
        done.push(i);
      }),
    );
    // Queued behind the mutations, as a ping's read or a signal would be.
    setImmediate(() => (seenByOtherWork = done.length));
    await Promise.all(queued);
    expect(done).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(seenByOtherWork).toBeGreaterThanOrEqual(0);
    expect(seenByOtherWork).toBeLessThan(40);
  });
});
