// "Is this port held by someone else?" answered once. Checking a port, moving
// a service, registering exclusively, resolving a conflict and describing a
// port all ask it; they differ only in who "someone else" excludes and in
// whether a listener from the latest scan counts.
import { compareNames, type HeldBy, type Protocol } from '../../client/protocol.ts';
import type { Observation } from './observation.ts';
import type { PortIndex } from './portindex.ts';
import { portKey, type Reservation, type State } from './state.ts';

export interface Asker {
  /** The services asking: their own hold on the port and reservations for them are not someone else's. */
  self?: readonly string[];
  /**
   * Whether a listener in the latest scan counts (the default). Registering
   * does not count it: the registering process is most often that listener.
   */
  listeners?: boolean;
}

export type Taken =
  | { reason: 'assigned'; heldBy: HeldBy; services: string[] }
  | { reason: 'reserved'; heldBy: HeldBy; reservation: Reservation }
  | { reason: 'listening'; heldBy: HeldBy; listeners: Observation[] };

/**
 * What holds `port` besides the asker, or null when nothing does: another
 * service (the first by name when several do), then a reservation for anyone
 * else (or for no one), then a listener in the latest scan (which the port
 * index carries). heldBy says whatever is known of the holder.
 */
export function takenBy(state: State, index: PortIndex, protocol: Protocol, port: number, asker: Asker = {}): Taken | null {
  const self = asker.self ?? [];
  const services = index
    .holdersOf(protocol, port)
    .filter((n) => !self.includes(n))
    .sort(compareNames);
  if (services.length > 0) {
    const s = state.services[services[0]!];
    const heldBy = { service: services[0]!, ...(s?.pid !== undefined && { pid: s.pid }), ...(s?.process && { process: s.process }) };
    return { reason: 'assigned', heldBy, services };
  }
  const r = state.reservations[portKey(protocol, port)];
  if (r && (r.for === undefined || !self.includes(r.for))) {
    return { reason: 'reserved', heldBy: r.for !== undefined ? { reservedFor: r.for } : {}, reservation: r };
  }
  const listeners = asker.listeners === false ? [] : index.listenersOf(protocol, port);
  const l = listeners[0];
  if (l)
    return {
      reason: 'listening',
      heldBy: { ...(l.pid !== undefined && { pid: l.pid }), ...(l.process && { process: l.process }) },
      listeners,
    };
  return null;
}
