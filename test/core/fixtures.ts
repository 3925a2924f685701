// Plain-data builders for the core's records, shared by the core tests and by
// the few others (store, CLI, integration) that need the same records. Each
// fills the fields a test does not name with the usual value, so a table row
// shows only what it is about; time comes in as a number (`at`), as the core
// takes `now`.
import type { Conflict, RangeStats } from '../../client/protocol.ts';
import { emptyState, type Reservation, type ServiceRecord, type State } from '../../daemon/core/state.ts';

/** The timestamp string the state stores for `ms`. */
export const iso = (ms: number): string => new Date(ms).toISOString();

/** A registered tcp service on 0.0.0.0, no tags, registered and last updated at `at`. */
export function serviceRecord(name: string, port: number, at: number, over: Partial<ServiceRecord> = {}): ServiceRecord {
  return {
    name,
    port,
    protocol: 'tcp',
    host: '0.0.0.0',
    status: 'registered',
    tags: [],
    registeredAt: iso(at),
    updatedAt: iso(at),
    origin: 'register',
    ...over,
  };
}

/** A tcp reservation made at `at`. */
export function reservationRecord(port: number, at: number, over: Partial<Reservation> = {}): Reservation {
  return { port, protocol: 'tcp', createdAt: iso(at), ...over };
}

/** What a conflict must name; the rest has defaults. */
export type ConflictFields = Partial<Conflict> & Pick<Conflict, 'type' | 'port' | 'services'>;

/** An open, critical tcp conflict detected at `at`. */
export function conflictRecord(id: string, at: number, over: ConflictFields): Conflict {
  return { id, protocol: 'tcp', severity: 'critical', detectedAt: iso(at), resolvedAt: null, resolution: null, ...over };
}

/** A range's statistics: ten ports, two assigned, one reserved, one listening (40% used), no trend. */
export function rangeStats(name: string, over: Partial<RangeStats> = {}): RangeStats {
  return {
    name,
    start: 1,
    end: 10,
    size: 10,
    assigned: 2,
    reserved: 1,
    listening: 1,
    free: 6,
    utilisation: 0.4,
    trendPerDay: 0,
    exhaustsAt: null,
    historySec: 0,
    ...over,
  };
}

/** A state holding these records; the next conflict id follows the conflicts given unless it is named. */
export function stateOf(parts: {
  services?: ServiceRecord[];
  reservations?: Reservation[];
  conflicts?: Conflict[];
  nextConflictId?: number;
}): State {
  const s = emptyState();
  for (const x of parts.services ?? []) s.services[x.name] = x;
  for (const r of parts.reservations ?? []) s.reservations[`${r.protocol}/${r.port}`] = r;
  for (const c of parts.conflicts ?? []) s.conflicts[c.id] = c;
  s.nextConflictId = parts.nextConflictId ?? (parts.conflicts?.length ?? 0) + 1;
  return s;
}
