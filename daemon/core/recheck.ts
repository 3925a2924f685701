// The check after a mutation: only the ports it touched. A register, move or
// unregister can open or close a duplicate_assignment on the ports it left
// and took, and nowhere else; the listener-based conflicts wait for the next
// scan's full reconcile. So the cost of a mutation does not grow with the
// number of services (the full reconcile on every register made bulk
// registration quadratic).
import type { Conflict } from '../../client/protocol.ts';
import { diffConflicts, type ConflictDiff } from './conflict-diff.ts';
import { byFirstName, duplicateOn, type Wanted } from './detect.ts';
import { expired } from './lifecycle.ts';
import type { PortLookup, PortRef } from './portindex.ts';
import { liveReservations, sortedByName } from './reconcile.ts';
import { unregisterEffects } from './service-effects.ts';
import { portKey, type Effects, type ServiceRecord, type State } from './state.ts';

export type { PortRef };

export interface PortCheckInput {
  state: State;
  lookup: Pick<PortLookup, 'holdersOf' | 'openConflictsOn'>;
  ports: Iterable<PortRef>;
  now: number;
}

/**
 * Judges the registry-derived conflicts (duplicate_assignment) of the given
 * ports, as the full reconcile would judge them on those ports: the same
 * wanted set, in the same order (by the first name involved), through the
 * same diff.
 */
export function checkPorts(input: PortCheckInput): ConflictDiff {
  const { state, lookup, now } = input;
  const result: ConflictDiff = { ops: [], events: [], opened: [], closed: [] };
  const want: Wanted[] = [];
  const judged: Conflict[] = [];
  const seen = new Set<string>();
  for (const where of input.ports) {
    const key = portKey(where.protocol, where.port);
    if (seen.has(key)) continue;
    seen.add(key);
    want.push(...duplicateOn(lookup.holdersOf(where.protocol, where.port), where));
    for (const id of lookup.openConflictsOn(where.protocol, where.port)) {
      const c = state.conflicts[id];
      if (c && c.resolvedAt === null && c.type === 'duplicate_assignment') judged.push(c);
    }
  }
  // Nothing wanted and nothing open to judge: the diff would change nothing.
  if (want.length === 0 && judged.length === 0) return result;
  want.sort(byFirstName);
  diffConflicts(state, want, judged, now, result);
  return result;
}

/**
 * Ends the leases and reservations whose ttl has run out at `now`: what the
 * sweep does between scans. `leased` names the services that have a ttl (the
 * port index keeps them), so a sweep never walks every service.
 */
export function expire(state: State, now: number, leased: Iterable<string> = Object.keys(state.services)): Effects {
  const fx: Effects = { ops: [], events: [] };
  const due: ServiceRecord[] = [];
  for (const name of leased) {
    const s = state.services[name];
    if (s && expired(s, now)) due.push(s);
  }
  for (const s of sortedByName(due)) {
    const u = unregisterEffects(state, s.name, now, 'lease-expired');
    fx.ops.push(...u.ops);
    fx.events.push(...u.events);
  }
  liveReservations(state, now, fx);
  return fx;
}
