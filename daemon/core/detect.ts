// Which conflicts the registry and the observed listeners call for right now.
// Each is named by a key, so that reconcile can tell a conflict that is still
// there (keep it, do not announce it again) from one that is new or gone.
import { compareNames, type Conflict, type ConflictType, type Listener, type Protocol, type Severity } from '../../client/protocol.ts';
import type { Observation } from './observation.ts';
import { ownership, toListener } from './owner.ts';
import { portKey, type Reservation, type ServiceRecord } from './state.ts';

/** A conflict as detection sees it: what and where, without id or lifecycle. */
export interface Wanted {
  key: string;
  type: ConflictType;
  protocol: Protocol;
  port: number;
  services: string[];
  listener?: Listener;
}

export const SEVERITY: Record<ConflictType, Severity> = {
  duplicate_assignment: 'critical',
  foreign_listener: 'critical',
  reserved_in_use: 'warning',
  drift: 'warning',
};

/** The types that need a scan to be judged; the others come from the registry alone. */
export const LISTENER_TYPES: ReadonlySet<ConflictType> = new Set(['foreign_listener', 'reserved_in_use', 'drift']);

/** Identity of a conflict: one per type and port, and for drift per service too. */
export function conflictKey(c: Pick<Conflict, 'type' | 'protocol' | 'port' | 'services'>): string {
  const where = `${c.type}:${portKey(c.protocol, c.port)}`;
  return c.type === 'drift' ? `${where}:${c.services[0] ?? ''}` : where;
}

function wanted(type: ConflictType, protocol: Protocol, port: number, services: string[], listener?: Listener): Wanted {
  const w: Wanted = { key: '', type, protocol, port, services: [...services].sort(compareNames), ...(listener && { listener }) };
  w.key = conflictKey(w);
  return w;
}

/** Items grouped by protocol/port, in first-seen order; every group holds at least one. */
export function byPort<T extends { protocol: Protocol; port: number }>(items: readonly T[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const x of items) {
    const key = portKey(x.protocol, x.port);
    const group = groups.get(key);
    if (group) group.push(x);
    else groups.set(key, [x]);
  }
  return groups;
}

/**
 * A scan's listeners looked up by port and by pid, built once per round so
 * that every per-service question is a map lookup, not a walk of the scan.
 */
export class ListenerView {
  private readonly onPort: Map<string, Observation[]>;
  private readonly ofPid = new Map<number, Observation[]>();

  constructor(readonly all: readonly Observation[]) {
    this.onPort = byPort(all);
    for (const l of all) {
      if (l.pid === undefined) continue;
      const list = this.ofPid.get(l.pid);
      if (list) list.push(l);
      else this.ofPid.set(l.pid, [l]);
    }
  }

  on(protocol: Protocol, port: number): readonly Observation[] {
    return this.onPort.get(portKey(protocol, port)) ?? [];
  }

  of(pid: number): readonly Observation[] {
    return this.ofPid.get(pid) ?? [];
  }

  /** The listeners grouped by port; every group holds at least one. */
  ports(): Iterable<readonly Observation[]> {
    return this.onPort.values();
  }
}

/** Where the services are in this round (after its releases and adoptions). */
export interface Placement {
  /** The services on a port, sorted by name. */
  on(protocol: Protocol, port: number): readonly ServiceRecord[];
  service(name: string): ServiceRecord | undefined;
}

/** The order the full reconcile opens conflicts in (and so gives out ids): by the first service named. */
export function byFirstName(a: Wanted, b: Wanted): number {
  const x = a.services[0] ?? '';
  const y = b.services[0] ?? '';
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The duplicate_assignment on one port, given the names holding it (none when fewer than two). */
export function duplicateOn(names: readonly string[], where: { protocol: Protocol; port: number }): Wanted[] {
  return names.length > 1 ? [wanted('duplicate_assignment', where.protocol, where.port, [...names])] : [];
}

/** A listener is foreign to a port only if it is provably none of its services' owner. */
export function foreignListeners(place: Placement, listeners: ListenerView): Wanted[] {
  const found: Wanted[] = [];
  for (const group of listeners.ports()) {
    const { protocol, port } = group[0]!;
    const services = place.on(protocol, port);
    if (services.length === 0) continue;
    const foreign = group.find((l) => services.every((s) => ownership(s, l) === 'foreign'));
    if (foreign)
      found.push(
        wanted(
          'foreign_listener',
          protocol,
          port,
          services.map((s) => s.name),
          toListener(foreign),
        ),
      );
  }
  return found.sort(byFirstName);
}

/**
 * `acknowledged` holds the port keys of open conflicts an operator settled
 * with the reserve strategy: the reservation made then must not raise a
 * second conflict about the same listener.
 */
export function reservedInUse(
  place: Placement,
  reservations: readonly Reservation[],
  listeners: ListenerView,
  acknowledged: ReadonlySet<string>,
): Wanted[] {
  const found: Wanted[] = [];
  for (const r of reservations) {
    if (acknowledged.has(portKey(r.protocol, r.port))) continue;
    const holder = r.for !== undefined ? place.service(r.for) : undefined;
    const intruder = listeners
      .on(r.protocol, r.port)
      .find((l) => (holder ? ownership(holder, l) === 'foreign' : l.pid !== undefined || l.process !== undefined));
    if (intruder) found.push(wanted('reserved_in_use', r.protocol, r.port, holder ? [holder.name] : [], toListener(intruder)));
  }
  return found;
}

/** A service's process listens elsewhere, on a port no other service holds, and not on its own. */
export function drifts(owned: Iterable<ServiceRecord>, place: Placement, listeners: ListenerView): Wanted[] {
  const found: Wanted[] = [];
  for (const s of owned) {
    if (s.pid === undefined) continue;
    const own = listeners.of(s.pid);
    if (own.length === 0) continue;
    const same = own.filter((l) => l.protocol === s.protocol);
    if (same.some((l) => l.port === s.port)) continue;
    const elsewhere = same.find((l) => place.on(l.protocol, l.port).length === 0);
    if (elsewhere) found.push(wanted('drift', s.protocol, s.port, [s.name], toListener(elsewhere)));
  }
  return found.sort(byFirstName);
}
