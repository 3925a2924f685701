// One reconcile round: (registry, observed listeners, now) -> what changes.
// Pure, and its only memory between rounds is the `holdoff` it returns, so a
// round is a table-driven test (the lesson of Kubernetes' port repair loop).
import { compareNames, type Conflict } from '../../client/protocol.ts';
import { conflictKey, drifts, duplicates, foreignListeners, LISTENER_TYPES, reservedInUse, SEVERITY, type Wanted } from './detect.ts';
import { adoptable, countHoldoff, DEFAULT_HOLDOFF_ROUNDS, holdoffKey, expired, type PidStarts } from './lifecycle.ts';
import type { Observation } from './observation.ts';
import { reservationLine, unregisterEffects } from './service-effects.ts';
import { conflictNumber, iso, portKey, statusOp, type Effects, type Reservation, type ServiceRecord, type State } from './state.ts';

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
}

export interface ReconcileResult extends Effects {
  opened: Conflict[];
  closed: Conflict[];
  holdoff: Record<string, number>;
}

export function reconcile(input: ReconcileInput): ReconcileResult {
  const { state, listeners, now } = input;
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
  const round = countHoldoff([...live.values()], input.holdoff, input.deadPids, listeners, rounds, input.pidStarts);
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
    if (!s.adopted || s.pid === undefined || !input.deadPids?.includes(s.pid)) continue;
    const { pid: _pid, process: _process, adopted: _adopted, ...unowned } = s;
    live.set(s.name, { ...unowned, updatedAt: iso(now) });
    changed.add(s.name);
  }
  if (listeners) {
    for (const name of live.keys()) {
      const s = live.get(name)!;
      const l = adoptable(s, [...live.values()], listeners);
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
  diffConflicts(state, want, listeners !== null, now, result);
  return result;
}

function sortedByName<T extends { name: string }>(xs: T[]): T[] {
  return xs.sort((a, b) => compareNames(a.name, b.name));
}

/** Drops reservations whose ttl ran out (announced as a released port) and returns the rest. */
function liveReservations(state: State, now: number, result: Effects): Reservation[] {
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

/**
 * Keeps open conflicts that are still wanted (refreshing who is involved in
 * place, without an event), closes the rest of the judged ones, opens the new.
 */
function diffConflicts(state: State, want: Wanted[], withListeners: boolean, now: number, result: ReconcileResult): void {
  const wanted = new Map(want.map((w) => [w.key, w]));
  const kept = new Set<string>();
  const open = Object.values(state.conflicts)
    .filter((c) => c.resolvedAt === null && (withListeners || !LISTENER_TYPES.has(c.type)))
    .sort((a, b) => conflictNumber(a.id) - conflictNumber(b.id));
  for (const c of open) {
    const key = conflictKey(c);
    const w = wanted.get(key);
    if (!w || kept.has(key)) {
      // An acknowledged conflict ends the way the operator meant it to: resolved.
      const closed: Conflict = { ...c, resolvedAt: iso(now), outcome: c.acknowledged && c.resolution ? 'resolved' : 'vanished' };
      result.ops.push({ op: 'conflict', id: c.id, value: closed });
      result.events.push({ type: 'conflict_resolved', data: closed });
      result.closed.push(closed);
      continue;
    }
    kept.add(key);
    if (!sameParties(c, w)) {
      const { listener: _old, ...rest } = c;
      result.ops.push({ op: 'conflict', id: c.id, value: { ...rest, services: w.services, ...(w.listener && { listener: w.listener }) } });
    }
  }
  let next = state.nextConflictId;
  for (const w of want) {
    if (kept.has(w.key)) continue;
    kept.add(w.key);
    const { key: _key, ...what } = w;
    const c: Conflict = { id: `c${next++}`, ...what, severity: SEVERITY[w.type], detectedAt: iso(now), resolvedAt: null, resolution: null };
    result.ops.push({ op: 'conflict', id: c.id, value: c });
    result.events.push({ type: 'conflict_detected', data: c });
    result.opened.push(c);
  }
  if (next !== state.nextConflictId) result.ops.push({ op: 'nextConflictId', value: next });
}

function sameParties(c: Conflict, w: Wanted): boolean {
  return JSON.stringify(c.services) === JSON.stringify(w.services) && JSON.stringify(c.listener) === JSON.stringify(w.listener);
}
