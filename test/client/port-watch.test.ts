// PortWatch's bookkeeping on plain data: which changes reach a listener, and how often.
import { describe, expect, it } from 'vitest';
import { PortWatch } from '../../client/port-watch.ts';

function recorder() {
  const calls: Array<[number, number]> = [];
  return { calls, fn: (port: number, previous: number) => void calls.push([port, previous]) };
}

describe('PortWatch', () => {
  it('reports a move once when the port was read (service.get) before its event arrived', () => {
    // The daemon changes its state before the event is durable and sent, so a
    // service.get (a second onPortChange, a recheck after a reconnect) can see
    // the new port first; the event that follows is then no news.
    const watch = new PortWatch();
    const a = recorder();
    watch.add('web', a.fn);
    watch.learn('web', 4000);
    watch.learn('web', 4001);
    watch.onAssigned({ service: 'web', port: 4001, previous: 4000 } as never);
    expect(a.calls).toEqual([[4001, 4000]]);
    // Later moves are still reported, back to an earlier port too.
    watch.onAssigned({ service: 'web', port: 4000, previous: 4001 } as never);
    expect(a.calls).toEqual([
      [4001, 4000],
      [4000, 4001],
    ]);
  });
});
