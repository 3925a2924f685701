// One reconcile round: (registry, observed listeners, now) -> what changes.
// Pure, and its only memory between rounds is the `holdoff` it returns, so a
// round is a table-driven test (the lesson of Kubernetes' port repair loop).
import type { Conflict } from '../../client/protocol.ts';
import { diffConflicts } from './conflict-diff.ts';
import { byPort, drifts, duplicates, foreignListeners, LISTENER_TYPES, ListenerView, reservedInUse } from './detect.ts';
import { adoptable, countHoldoff, DEFAULT_HOLDOFF_ROUNDS, holdoffKey, expired } from './lifecycle.ts';
import type { Observation } from './observation.ts';
import { hasOwner } from './owner.ts';
import { unregisterEffects } from './service-effects.ts';
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
  holdoffRounds?: number;
}

export interface ReconcileResult extends Effects {
  opened: Conflict[];
  closed: Conflict[];
  holdoff: Record<string, number>;
}

/**
 * The full round, run for each scan: every service, reservation and open
 * conflict is judged. Linear in services plus listeners (apart from sorting
 * names once): every per-service question is a map lookup.
 */
export function reconcile(input: ReconcileInput): ReconcileResult {
  const { state, now } = input;
  const listeners = input.listeners && new ListenerView(input.listeners);
  const deadPids = input.deadPids && new Set(input.deadPids);
  const result: ReconcileResult = { ops: [], events: [], opened: [], closed: [], holdoff: {} };
  const live = new Map(sortedByName(Object.values(state.services)).map((s) => [s.name, s]));
  const changed = new Set<string>();
  const stopped: string[] = [];
  const release = (s: ServiceRecord, why: string) => {
    const fx = unregisterEffects(state, s.name, now, why);
    result.ops.push(...fx.ops);
    result.events.push(...fx.events);
    live.delete(s.name);
  };
  const update = (s: ServiceRecord, patch: Partial<ServiceRecord>) => {
    live.set(s.name, { ...s, ...patch, updatedAt: iso(now) });
    changed.add(s.name);
  };

  for (const s of live.values()) if (expired(s, now)) release(s, 'lease-expired');

  const rounds = input.holdoffRounds ?? DEFAULT_HOLDOFF_ROUNDS;
  const round = countHoldoff([...live.values()], input.holdoff, deadPids, listeners, rounds);
  result.holdoff = round.holdoff;
  for (const s of round.dead) {
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
  for (const s of [...live.values()]) {
    if (!s.adopted || s.pid === undefined || !deadPids?.has(s.pid)) continue;
    const { pid: _pid, process: _process, adopted: _adopted, ...unowned } = s;
    live.set(s.name, { ...unowned, updatedAt: iso(now) });
    changed.add(s.name);
  }
  if (listeners) {
    // Only services on the same port can already own a listener there; they are read from `live` as adoption updates it.
    const samePort = byPort([...live.values()]);
    for (const name of live.keys()) {
      const s = live.get(name)!;
      if (hasOwner(s)) continue;
      const neighbours = samePort.get(portKey(s.protocol, s.port))!.map((n) => live.get(n.name) ?? n);
      const l = adoptable(s, neighbours, listeners.on(s.protocol, s.port));
      if (l) update(s, { ...(l.pid !== undefined && { pid: l.pid }), ...(l.process !== undefined && { process: l.process }), adopted: true });
    }
  }
  for (const name of changed) if (live.has(name)) result.ops.push({ op: 'service', name, value: live.get(name)! });
  for (const name of stopped) result.ops.push(statusOp(name, 'stopped', now));

  const reservations = liveReservations(state, now, result);
  const services = [...live.values()];
  const want = duplicates(services);
  if (listeners) {
    want.push(
      ...foreignListeners(services, listeners),
      ...reservedInUse(Object.fromEntries(live), reservations, listeners, acknowledgedPorts(state)),
      ...drifts(services, listeners),
    );
  }
  const judged = Object.values(state.conflicts).filter((c) => c.resolvedAt === null && (listeners !== null || !LISTENER_TYPES.has(c.type)));
  diffConflicts(state, want, judged, now, result);
  return result;
}

export function sortedByName<T extends { name: string }>(xs: T[]): T[] {
  return xs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Drops reservations whose ttl ran out (announced as a released port) and returns the rest. */
export function liveReservations(state: State, now: number, result: Effects): Reservation[] {
  const kept: Reservation[] = [];
  for (const [key, r] of Object.entries(state.reservations).sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (expired(r, now)) {
      result.ops.push({ op: 'reservation', key, value: null });
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
