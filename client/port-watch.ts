// The bookkeeping behind pm.service.onPortChange: who watches which service,
// and the last port seen for each, so a callback gets (port, previous) even
// when the event carries no `previous` (a service registered again elsewhere)
// and a change made while the connection was down is still reported once it
// is back.
import type { EventData } from './protocol.ts';

/** Called with a service's new port and the one it had before. */
export type PortChangeListener = (port: number, previous: number) => void;

export class PortWatch {
  private readonly watchers = new Map<string, Set<PortChangeListener>>();
  private readonly known = new Map<string, number>();

  get size(): number {
    return this.watchers.size;
  }

  names(): string[] {
    return [...this.watchers.keys()];
  }

  /** Adds a listener; true when it is the first for that service. */
  add(name: string, fn: PortChangeListener): boolean {
    let set = this.watchers.get(name);
    const first = !set;
    if (!set) this.watchers.set(name, (set = new Set()));
    set.add(fn);
    return first;
  }

  /** Removes a listener; true when nobody watches any service any more. */
  remove(name: string, fn: PortChangeListener): boolean {
    const set = this.watchers.get(name);
    if (set?.delete(fn) && set.size === 0) {
      this.watchers.delete(name);
      this.known.delete(name);
    }
    return this.watchers.size === 0;
  }

  /** The service's port as the daemon reported it (undefined: not registered), read after the events before it. */
  learn(name: string, port: number | undefined): void {
    if (!this.watchers.has(name)) return;
    const before = this.known.get(name);
    if (port === undefined) return;
    this.known.set(name, port);
    if (before !== undefined && before !== port) this.fire(name, port, before);
  }

  onAssigned(data: EventData['port_assigned']): void {
    if (!this.watchers.has(data.service)) return;
    const known = this.known.get(data.service);
    // The daemon's state changes before its event is sent, so a service.get
    // may have shown this port already (and reported the move): no news.
    if (known === data.port) return;
    const previous = data.previous ?? known;
    this.known.set(data.service, data.port);
    if (previous !== undefined && previous !== data.port) this.fire(data.service, data.port, previous);
  }

  private fire(name: string, port: number, previous: number): void {
    for (const fn of [...(this.watchers.get(name) ?? [])]) {
      // One callback that throws must not starve the others; its error still surfaces, uncaught.
      try {
        fn(port, previous);
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }
}
