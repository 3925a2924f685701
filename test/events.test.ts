import { describe, expect, it } from 'vitest';
import { EVENT_TYPES, type PortmandEvent } from '../client/protocol.ts';
import { EventBus } from '../daemon/events.ts';
import type { Connection } from '../daemon/transport/server.ts';

/** A connection that records what it was sent. */
function fakeConn(id = 1): Connection & { got: PortmandEvent[]; closed: boolean } {
  const got: PortmandEvent[] = [];
  return {
    id,
    subscriptions: new Set(),
    closed: false,
    got,
    notify(method, params) {
      expect(method).toBe('event');
      got.push(params as PortmandEvent);
    },
    close() {
      this.closed = true;
    },
    refuse() {
      this.closed = true;
    },
  };
}

const T0 = Date.UTC(2024, 0, 2, 3, 4, 5);
const released = (port: number) => ({ type: 'port_released' as const, data: { port } });
const assigned = (port: number) => ({ type: 'port_assigned' as const, data: { service: 'web', port } });

function bus(ringSize?: number) {
  let now = T0;
  const b = new EventBus(() => now++, ringSize);
  return b;
}

describe('publish', () => {
  it('stamps seq (one more per event) and ISO time from the clock', () => {
    const b = bus();
    expect(b.subscribe(fakeConn(), undefined).seq).toBe(0);
    expect(b.publish(released(1))).toStrictEqual({ type: 'port_released', seq: 1, time: '2024-01-02T03:04:05.000Z', data: { port: 1 } });
    expect(b.publish(assigned(2)).seq).toBe(2);
    expect(b.subscribe(fakeConn(), undefined).seq).toBe(2);
  });

  it('delivers only the subscribed types, only to subscribers, and not to closed connections', () => {
    const b = bus();
    const a = fakeConn(1);
    const c = fakeConn(2);
    const idle = fakeConn(3);
    b.attach(idle);
    b.subscribe(a, ['port_released']);
    b.subscribe(c, undefined);
    b.publish(released(1));
    b.publish(assigned(2));
    expect(a.got.map((e) => e.seq)).toStrictEqual([1]);
    expect(c.got.map((e) => e.seq)).toStrictEqual([1, 2]);
    expect(idle.got).toStrictEqual([]);
    c.closed = true;
    b.publish(released(3));
    expect(c.got).toHaveLength(2);
    expect(a.got).toHaveLength(2);
  });

  it('stops delivering after detach', () => {
    const b = bus();
    const a = fakeConn();
    b.subscribe(a, undefined);
    b.detach(a);
    b.publish(released(1));
    expect(a.got).toStrictEqual([]);
  });
});

describe('subscribe / unsubscribe', () => {
  it('absent types means all, listed in EVENT_TYPES order', () => {
    const b = bus();
    expect(b.subscribe(fakeConn(), undefined)).toStrictEqual({ subscribed: [...EVENT_TYPES], seq: 0 });
  });

  it('accumulates and reports in EVENT_TYPES order', () => {
    const b = bus();
    const a = fakeConn();
    b.subscribe(a, ['service_health']);
    expect(b.subscribe(a, ['port_released', 'service_registered'])).toStrictEqual({
      subscribed: ['service_registered', 'port_released', 'service_health'],
      seq: 0,
    });
  });

  it('unsubscribe removes listed types, or all when absent', () => {
    const b = bus();
    const a = fakeConn();
    b.subscribe(a, undefined);
    expect(b.unsubscribe(a, ['port_assigned']).subscribed).not.toContain('port_assigned');
    b.publish(assigned(1));
    expect(a.got).toStrictEqual([]);
    expect(b.unsubscribe(a, undefined)).toStrictEqual({ subscribed: [] });
  });
});

describe('replay with sinceSeq', () => {
  function withHistory(n: number, ringSize?: number) {
    const b = bus(ringSize);
    for (let i = 1; i <= n; i++) b.publish(i % 2 ? released(i) : assigned(i));
    return b;
  }

  it('sends the missed events of the requested types, oldest first, without a gap', () => {
    const b = withHistory(6);
    const a = fakeConn();
    expect(b.subscribe(a, ['port_released'], 2)).toStrictEqual({ subscribed: ['port_released'], seq: 6 });
    expect(a.got.map((e) => e.seq)).toStrictEqual([3, 5]);
  });

  it('sends nothing when the client is up to date', () => {
    const b = withHistory(3);
    const a = fakeConn();
    expect(b.subscribe(a, undefined, 3).gap).toBeUndefined();
    expect(a.got).toStrictEqual([]);
  });

  it('flags a gap when a requested type has forgotten an event after seq, and replays what it has', () => {
    const b = withHistory(10, 4);
    const a = fakeConn();
    // Each type keeps 4: port_released holds 3, 5, 7, 9 (1 is forgotten), port_assigned 4, 6, 8, 10 (2 is).
    expect(b.subscribe(a, undefined, 1)).toStrictEqual({ subscribed: [...EVENT_TYPES], seq: 10, gap: true });
    expect(a.got.map((e) => e.seq)).toStrictEqual([3, 4, 5, 6, 7, 8, 9, 10]);
    const c = fakeConn();
    expect(b.subscribe(c, ['port_released'], 1).gap).toBeUndefined();
    expect(c.got.map((e) => e.seq)).toStrictEqual([3, 5, 7, 9]);
  });

  it('one replay sends the latest maxReplay events at most, and says the rest are lost', () => {
    let now = T0;
    const b = new EventBus(() => now++, 5, 0, 3);
    for (let i = 1; i <= 10; i++) b.publish(i % 2 ? released(i) : assigned(i));
    const a = fakeConn();
    // The two types hold 5 each; from seq 5 five are held after it, and one replay sends three, the latest.
    expect(b.subscribe(a, undefined, 5).gap).toBe(true);
    expect(a.got.map((e) => e.seq)).toStrictEqual([8, 9, 10]);
  });

  it('a flood of one type neither pushes another type out of the replay nor reports a gap to its subscribers', () => {
    const b = bus(5);
    b.publish(released(1));
    for (let i = 0; i < 50; i++) b.publish({ type: 'listener_started', data: { port: 20000 + i, protocol: 'tcp', address: '127.0.0.1' } });
    const a = fakeConn();
    expect(b.subscribe(a, ['port_released'], 0)).toStrictEqual({ subscribed: ['port_released'], seq: 51 });
    expect(a.got.map((e) => e.seq)).toStrictEqual([1]);
    const all = fakeConn();
    expect(b.subscribe(all, undefined, 0).gap).toBe(true);
    expect(all.got.map((e) => e.seq)).toStrictEqual([1, 47, 48, 49, 50, 51]);
  });

  it('no gap when the ring still holds exactly seq+1', () => {
    const b = withHistory(10, 4);
    const a = fakeConn();
    expect(b.subscribe(a, undefined, 6).gap).toBeUndefined();
    expect(a.got.map((e) => e.seq)).toStrictEqual([7, 8, 9, 10]);
  });

  it('flags a gap for a sinceSeq from an earlier daemon (ahead of ours) and replays all it has', () => {
    const b = withHistory(2);
    const a = fakeConn();
    expect(b.subscribe(a, undefined, 50).gap).toBe(true);
    expect(a.got.map((e) => e.seq)).toStrictEqual([1, 2]);
  });

  it('later publishes follow the replay in seq order', () => {
    const b = withHistory(2);
    const a = fakeConn();
    b.subscribe(a, undefined, 0);
    b.publish(released(9));
    expect(a.got.map((e) => e.seq)).toStrictEqual([1, 2, 3]);
  });
});

describe('seq across a daemon restart', () => {
  it('a seq seen from the previous daemon is answered with everything held and a gap, never as up to date', () => {
    const before = new EventBus(() => 0, 10, 1_000);
    for (let i = 0; i < 5; i++) before.publish({ type: 'port_released', data: { port: 3000 + i } });
    const seen = before.subscribe(fakeConn(), undefined).seq;
    const after = new EventBus(() => 0, 10, 2_000);
    after.publish({ type: 'port_released', data: { port: 4000 } });
    after.publish({ type: 'port_released', data: { port: 4001 } });
    const conn = fakeConn();
    expect(after.subscribe(conn, undefined, seen)).toMatchObject({ seq: 2_002, gap: true });
    expect(conn.got.map((e) => e.seq)).toEqual([2_001, 2_002]);
  });
});
