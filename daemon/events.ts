// The event bus: stamps every event with a daemon-wide seq and time, keeps the
// latest ones of each type for replay, and pushes each to the connections
// subscribed to its type. Delivery only queues on the connection, so a slow
// subscriber never holds up the publisher or the other subscribers. Each type
// has a ring of its own: a scan that sees 2,000 listeners come and go must not
// push the last conflicts out of the replay of a client that only follows
// conflicts, nor tell it that it missed something.
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

/** The latest events of one type, and the highest seq it has forgotten. */
class Ring {
  readonly #events: PortmandEvent[] = [];
  #start = 0;
  forgotten = 0;

  constructor(private readonly size: number) {}

  push(event: PortmandEvent): void {
    if (this.#events.length < this.size) {
      this.#events.push(event);
      return;
    }
    this.forgotten = this.#events[this.#start]!.seq;
    this.#events[this.#start] = event;
    this.#start = (this.#start + 1) % this.size;
  }

  /** Oldest first. */
  events(): PortmandEvent[] {
    return [...this.#events.slice(this.#start), ...this.#events.slice(0, this.#start)];
  }
}

export class EventBus {
  #seq = 0;
  readonly #firstSeq: number;
  readonly #rings = new Map<EventType, Ring>();
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
    /** The most events one replay sends: all of it must fit a connection's send queue. */
    private readonly maxReplay = DEFAULT_RING_SIZE,
  ) {
    if (!Number.isSafeInteger(ringSize) || ringSize < 1) throw new RangeError('ringSize must be a positive integer');
    this.#seq = firstSeq;
    this.#firstSeq = firstSeq;
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

  /** The remembered events of `types` (all when absent), oldest first. */
  events(types: Iterable<EventType> = EVENT_TYPES): PortmandEvent[] {
    const held: PortmandEvent[] = [];
    for (const t of types) held.push(...(this.#rings.get(t)?.events() ?? []));
    return held.sort((a, b) => a.seq - b.seq);
  }

  #remember(event: PortmandEvent): void {
    let ring = this.#rings.get(event.type);
    if (!ring) this.#rings.set(event.type, (ring = new Ring(this.ringSize)));
    ring.push(event);
  }

  /**
   * Sends what the rings of `types` hold after `sinceSeq`, the latest
   * `maxReplay` of them at most; returns true when that is not everything
   * of those types missed.
   */
  #replay(conn: Connection, types: Set<EventType>, sinceSeq: number): boolean {
    // A sinceSeq beyond ours, or before our first, was seen from another daemon: all we hold is news, and the rest is lost.
    const otherDaemon = sinceSeq > this.#seq || sinceSeq < this.#firstSeq;
    const after = otherDaemon ? 0 : sinceSeq;
    const missed = this.events(types).filter((event) => event.seq > after);
    const sent = missed.slice(-this.maxReplay);
    for (const event of sent) conn.notify(EVENT_METHOD, event);
    return otherDaemon || sent.length < missed.length || [...types].some((t) => (this.#rings.get(t)?.forgotten ?? 0) > after);
  }
}

function subscribedOf(conn: Connection): EventType[] {
  return EVENT_TYPES.filter((t) => conn.subscriptions.has(t));
}
