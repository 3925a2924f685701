import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ProbeSlots, type Lease, type Priority } from '../../daemon/health/slots.ts';

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

const never = new AbortController().signal;

/** Acquires and records the order in which leases are granted. */
function taker(slots: ProbeSlots, granted: string[]) {
  return (name: string, priority: Priority = 'scheduled', signal = never, onOverflow = () => {}) =>
    slots.acquire(priority, signal, onOverflow).then((lease) => (granted.push(name), lease));
}

describe('ProbeSlots', () => {
  it('probes that outlast slowAfterMs move to the slow lane and free their slots', async () => {
    const slots = new ProbeSlots({ fast: 2, slow: 4, slowAfterMs: 1000 });
    const granted: string[] = [];
    const take = taker(slots, granted);
    void take('hang-1');
    void take('hang-2');
    const quick = take('quick');
    await vi.advanceTimersByTimeAsync(999);
    expect(granted).toEqual(['hang-1', 'hang-2']);
    await vi.advanceTimersByTimeAsync(1);
    (await quick).release();
    expect(granted).toEqual(['hang-1', 'hang-2', 'quick']);
    expect(slots.inUse).toEqual({ fast: 0, slow: 2 });
  });

  it('tells a probe to give up when the slow lane is full too', async () => {
    const slots = new ProbeSlots({ fast: 1, slow: 1, slowAfterMs: 100 });
    const overflowed: string[] = [];
    const take = taker(slots, []);
    const a = await take('a', 'scheduled', never, () => overflowed.push('a'));
    await vi.advanceTimersByTimeAsync(100); // a moves to the slow lane
    const b = await take('b', 'scheduled', never, () => overflowed.push('b'));
    await vi.advanceTimersByTimeAsync(100);
    expect(overflowed).toEqual(['b']);
    b.release();
    a.release();
    expect(slots.inUse).toEqual({ fast: 0, slow: 0 });
  });

  it('serves asked checks first, then scheduled ones, then services that were slow', async () => {
    const slots = new ProbeSlots({ fast: 1, slow: 0, slowAfterMs: 60_000 });
    const granted: string[] = [];
    const leases = new Map<string, Lease>();
    const take = (name: string, priority: Priority) =>
      slots.acquire(priority, never, () => {}).then((l) => (granted.push(name), leases.set(name, l)));
    await take('first', 'scheduled');
    const waiting = [take('slow', 'slow'), take('sched', 'scheduled'), take('asked', 'asked')];
    // Whoever holds the one slot finishes; the next in line gets it.
    for (let i = 0; i < waiting.length; i++) {
      leases.get(granted.at(-1)!)!.release();
      await vi.advanceTimersByTimeAsync(0);
    }
    await Promise.all(waiting);
    expect(granted).toEqual(['first', 'asked', 'sched', 'slow']);
  });

  it('a waiter whose signal aborts leaves the queue with the reason', async () => {
    const slots = new ProbeSlots({ fast: 1, slow: 0, slowAfterMs: 60_000 });
    const take = taker(slots, []);
    const held: Lease = await take('held');
    const ctl = new AbortController();
    const waiting = take('gone', 'asked', ctl.signal);
    const reason = new Error('no answer within 50 ms');
    ctl.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    held.release();
    expect(slots.inUse).toEqual({ fast: 0, slow: 0 });
  });
});
