// The event bus: stamps every event with a daemon-wide seq and time, keeps the
// latest ones for replay, and pushes each to the connections subscribed to its
// type. Delivery only queues on the connection, so a slow subscriber never
// holds up the publisher or the other subscribers.
import { EVENT_METHOD, EVENT_TYPES, type EventType, type PortmandEvent } from '../client/protocol.ts';
import { iso, type EmittedEvent } from './core/state.ts';
import type { Connection } from './transport/server.ts';

export const DEFAULT_RING_SIZE = 1000;

export interface SubscribeResult {
  subscribed: EventType[];
  /** Extension: the daemon's latest seq, from where a reconnecting client asks to resume. */
  seq: number;
  /** Extension: the replay from `sinceSeq` is incomplete, events were missed. */
  gap?: boolean;
}

export class EventBus {
  #seq = 0;
  readonly #ring: PortmandEvent[] = [];
  #ringStart = 0;
  readonly #conns = new Set<Connection>();

  /**
   * `firstSeq` is where counting starts. The daemon starts from its start time
   * (in microseconds), so a seq a client saw before a restart is always below
   * the new daemon's and its resubscription is answered with a replay and a gap
   * flag, never mistaken for "up to date".
   */
  constructor(
    private readonly now: () => number,
    private readonly ringSize = DEFAULT_RING_SIZE,
    firstSeq = 0,
  ) {
    if (!Number.isSafeInteger(ringSize) || ringSize < 1) throw new RangeError('ringSize must be a positive integer');
    this.#seq = firstSeq;
  }

  publish(e: EmittedEvent): PortmandEvent {
    this.#seq += 1;
    // iso() reuses the string of the same millisecond: a batch's events share one instead of a Date and a string each.
    const event = { type: e.type, seq: this.#seq, time: iso(this.now()), data: e.data } as PortmandEvent;
    this.#remember(event);
    for (const conn of this.#conns) {
      if (!conn.closed && conn.subscriptions.has(event.type)) conn.notify(EVENT_METHOD, event);
    }
    return event;
  }

  attach(conn: Connection): void {
    this.#conns.add(conn);
  }

  detach(conn: Connection): void {
    this.#conns.delete(conn);
  }

  /**
   * Adds `types` (all when absent) to the connection's subscriptions. With
   * `sinceSeq`, the remembered events of those types after it are sent first;
   * `gap` says some were already forgotten (or seq restarted with the daemon).
   */
  subscribe(conn: Connection, types: readonly EventType[] = EVENT_TYPES, sinceSeq?: number): SubscribeResult {
    this.attach(conn);
    for (const t of types) conn.subscriptions.add(t);
    const result: SubscribeResult = { subscribed: subscribedOf(conn), seq: this.#seq };
    if (sinceSeq !== undefined && this.#replay(conn, new Set(types), sinceSeq)) result.gap = true;
    return result;
  }

  /** Removes `types` (all when absent) from the connection's subscriptions. */
  unsubscribe(conn: Connection, types: readonly EventType[] = EVENT_TYPES): { subscribed: EventType[] } {
    for (const t of types) conn.subscriptions.delete(t);
    return { subscribed: subscribedOf(conn) };
  }

  /** The remembered events, oldest first. */
  events(): PortmandEvent[] {
    return [...this.#ring.slice(this.#ringStart), ...this.#ring.slice(0, this.#ringStart)];
  }

  #remember(event: PortmandEvent): void {
    if (this.#ring.length < this.ringSize) {
      this.#ring.push(event);
      return;
    }
    this.#ring[this.#ringStart] = event;
    this.#ringStart = (this.#ringStart + 1) % this.ringSize;
  }

  /** Sends what the ring holds after `sinceSeq`; returns true when that is not everything missed. */
  #replay(conn: Connection, types: Set<string>, sinceSeq: number): boolean {
    // A sinceSeq beyond ours was seen from an earlier daemon: all we hold is news, and the rest is lost.
    const restarted = sinceSeq > this.#seq;
    const after = restarted ? 0 : sinceSeq;
    const held = this.events();
    for (const event of held) {
      if (event.seq > after && types.has(event.type)) conn.notify(EVENT_METHOD, event);
    }
    const oldest = held[0]?.seq ?? this.#seq + 1;
    return restarted || oldest > after + 1;
  }
}

function subscribedOf(conn: Connection): EventType[] {
  return EVENT_TYPES.filter((t) => conn.subscriptions.has(t));
}
