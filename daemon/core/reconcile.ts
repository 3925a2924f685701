// One reconcile round: (registry, observed listeners, now) -> what changes.
// Pure, and its only memory between rounds is the `holdoff` it returns, so a
// round is a table-driven test (the lesson of Kubernetes' port repair loop).
import { compareNames, type Conflict } from '../../client/protocol.ts';
import { diffConflicts } from './conflict-diff.ts';
import {
  byFirstName,
  drifts,
  duplicateOn,
  foreignListeners,
  LISTENER_TYPES,
  ListenerView,
  reservedInUse,
  type Placement,
} from './detect.ts';
import { adoptable, countHoldoff, DEFAULT_HOLDOFF_ROUNDS, holdoffKey, expired, type PidStarts } from './lifecycle.ts';
import type { Observation } from './observation.ts';
import { hasOwner } from './owner.ts';
import { PortIndex, type PortLookup } from './portindex.ts';
import { reservationLine, unregisterEffects } from './service-effects.ts';
import { iso, portKey, statusOp, type Effects, type Reservation, type ServiceRecord, type State } from './state.ts';

export interface ReconcileInput {
  state: State;
  /** null = no new observation: only registry-derived conflicts are judged, listener-based ones are left as they are. */
  listeners: Observation[] | null;
  now: number;
  /** Counters from the previous round's result. */
  holdoff: Record<string, number>;
  /** Owner pids the shell found not running; undefined = not checked this round. */
  deadPids?: number[];
  /** Start marks of the owner pids that run, to tell a reused pid from its owner; undefined = not read. */
  pidStarts?: PidStarts;
  holdoffRounds?: number;
  /** Who holds each port, in step with `state` (the registry's PortIndex); built from `state` when absent. */
  ports?: PortLookup;
}

export interface ReconcileResult extends Effects {
  opened: Conflict[];
  closed: Conflict[];
  holdoff: Record<string, number>;
}

/**
 * The full round, run for each scan: every service, reservation and open
 * conflict is judged. It never walks every service: its work is per lease,
 * per owner pid, per listener, per shared port and per conflict, with a
 * port's services read from the index, and only what changed is sorted.
 * Ops, events and conflict ids come out in name order all the same.
 */
export function reconcile(input: ReconcileInput): ReconcileResult {
  const { state, now } = input;
  const ports = input.ports ?? PortIndex.build(state);
  const listeners = input.listeners && new ListenerView(input.listeners);
  const deadPids = input.deadPids && new Set(input.deadPids);
  const result: ReconcileResult = { ops: [], events: [], opened: [], closed: [], holdoff: {} };
  // This round's changes over state.services: a record, or null once released.
  const overlay = new Map<string, ServiceRecord | null>();
  const current = (name: string): ServiceRecord | undefined =>
    overlay.has(name) ? (overlay.get(name) ?? undefined) : state.services[name];
  const changed = new Set<string>();
  const stopped: string[] = [];
  const release = (s: ServiceRecord, why: string) => {
    const fx = unregisterEffects(state, s.name, now, why);
    result.ops.push(...fx.ops);
    result.events.push(...fx.events);
    overlay.set(s.name, null);
  };
  const update = (s: ServiceRecord, patch: Partial<ServiceRecord>) => {
    overlay.set(s.name, { ...s, ...patch, updatedAt: iso(now) });
    changed.add(s.name);
  };

  // Only leases can run out and only owner pids can die: the index names those services, so no round walks them all.
  const ran: ServiceRecord[] = [];
  for (const name of ports.leased()) {
    const s = state.services[name];
    if (s && expired(s, now)) ran.push(s);
  }
  for (const s of sortedByName(ran)) release(s, 'lease-expired');
  const owned: ServiceRecord[] = [];
  for (const name of ports.owned()) {
    const s = current(name);
    if (s?.pid !== undefined) owned.push(s);
  }

  const rounds = input.holdoffRounds ?? DEFAULT_HOLDOFF_ROUNDS;
  const round = countHoldoff(owned, input.holdoff, deadPids, listeners, rounds, input.pidStarts);
  result.holdoff = round.holdoff;
  for (const s of sortedByName(round.dead)) {
    if (s.origin === 'allocate') {
      release(s, 'reclaimed');
      delete result.holdoff[holdoffKey(s)];
    } else if (s.status !== 'stopped') {
      // A registered service outlives its process: it is marked, never removed.
      update(s, { status: 'stopped' });
      stopped.push(s.name);
      result.events.push({ type: 'service_health', data: { service: s.name, status: 'stopped', previous: s.status } });
    }
  }

  // A dead adopted owner leaves the service unowned, free to adopt its successor below.
  if (deadPids && deadPids.size > 0) {
    const orphans = owned.filter((s) => s.adopted && deadPids.has(s.pid!));
    for (const { name } of sortedByName(orphans)) {
      const s = current(name);
      if (!s) continue;
      const { pid: _pid, process: _process, adopted: _adopted, ...unowned } = s;
      overlay.set(name, { ...unowned, updatedAt: iso(now) });
      changed.add(name);
    }
  }

  const place: Placement = {
    on: (protocol, port) => sortedByName(ports.holdersOf(protocol, port).flatMap((n) => current(n) ?? [])),
    service: current,
  };
  if (listeners) {
    // Only ports someone listens on can adopt; a port's services are judged in name order, seeing each other's adoptions.
    const adopted: string[] = [];
    for (const group of listeners.ports()) {
      const { protocol, port } = group[0]!;
      for (const { name } of place.on(protocol, port)) {
        const s = current(name)!;
        if (hasOwner(s)) continue;
        const l = adoptable(s, place.on(protocol, port), group);
        if (!l) continue;
        overlay.set(name, {
          ...s,
          ...(l.pid !== undefined && { pid: l.pid }),
          ...(l.process !== undefined && { process: l.process }),
          adopted: true,
          updatedAt: iso(now),
        });
        adopted.push(name);
      }
    }
    for (const name of adopted.sort()) changed.add(name);
  }
  for (const name of changed) {
    const s = current(name);
    if (s) result.ops.push({ op: 'service', name, value: s });
  }
  for (const name of stopped) result.ops.push(statusOp(name, 'stopped', now));

  const reservations = liveReservations(state, now, result);
  const want = ports
    .sharedPorts()
    .flatMap((p) =>
      duplicateOn(
        p.names.filter((n) => current(n)),
        p,
      ),
    )
    .sort(byFirstName);
  if (listeners) {
    // Owners as they stand after this round: reclaimed ones gone, orphans without a pid, adopters with one.
    const owners = new Set([...owned.map((s) => s.name), ...changed]);
    const ownersNow: ServiceRecord[] = [];
    for (const name of owners) {
      const s = current(name);
      if (s?.pid !== undefined) ownersNow.push(s);
    }
    want.push(
      ...foreignListeners(place, listeners),
      ...reservedInUse(place, reservations, listeners, acknowledgedPorts(state)),
      ...drifts(ownersNow, place, listeners),
    );
  }
  const judged = Object.values(state.conflicts).filter((c) => c.resolvedAt === null && (listeners !== null || !LISTENER_TYPES.has(c.type)));
  diffConflicts(state, want, judged, now, result);
  return result;
}

export function sortedByName<T extends { name: string }>(xs: T[]): T[] {
  return xs.sort((a, b) => compareNames(a.name, b.name));
}

/** Drops reservations whose ttl ran out (announced as a released port) and returns the rest. */
export function liveReservations(state: State, now: number, result: Effects): Reservation[] {
  const kept: Reservation[] = [];
  for (const [key, r] of Object.entries(state.reservations).sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (expired(r, now)) {
      result.ops.push({ op: 'reservation', key, value: null }, reservationLine(r, 'unreserved', now, 'expired'));
      result.events.push({ type: 'port_released', data: { port: r.port } });
    } else kept.push(r);
  }
  return kept;
}

/** Ports whose open conflict an operator acknowledged (reserve strategy) for another reason than the reservation itself. */
function acknowledgedPorts(state: State): Set<string> {
  return new Set(
    Object.values(state.conflicts)
      .filter((c) => c.resolvedAt === null && c.acknowledged && c.type !== 'reserved_in_use')
      .map((c) => portKey(c.protocol, c.port)),
  );
}
