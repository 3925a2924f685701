// The registry's whole durable state as plain data, and the one function that
// changes it. Every mutation is an `Op`: the registry applies ops to memory and
// the store appends the same ops to its journal, so replaying the journal at
// start rebuilds exactly the state that was acknowledged.
import type { Conflict, EventData, EventType, HistoryAction, Owner, Protocol, Service, ServiceStatus } from '../../client/protocol.ts';
import { applyHealth, healthTable, type HealthOpValue, type HealthTable } from './health-log.ts';
import { appendSeriesRow, pruneSeries, seriesOf, type SeriesState } from './series.ts';

/** 2: adds `statusLog`. */
export const SCHEMA_VERSION = 2;

/** How a service came to exist: registered on purpose, or created by a port.allocate. */
export type Origin = 'register' | 'allocate';

export interface ServiceRecord extends Service {
  origin: Origin;
  /** The pid and process were adopted from the first listener seen, not declared: a successor is adopted in turn. */
  adopted?: true;
  /** When `pid`'s process started (an opaque mark from the OS), so a later process that reuses the pid is not taken for the owner. */
  pidStart?: string;
  /** sha256 (hex) of the service's token; the token itself is shown once and never stored. */
  tokenHash?: string;
}

export interface Reservation {
  port: number;
  protocol: Protocol;
  for?: string;
  reason?: string;
  createdAt: string;
  expiresAt?: string;
  /** Who made it; none: the daemon's user (config reservations, and those made before owners were recorded). */
  owner?: Owner;
  /** sha256 (hex) of the reservation's token. */
  tokenHash?: string;
}

/**
 * One line of assignment history: a service got, changed or gave up a port,
 * or a port was reserved or unreserved (then `service` is who it was for, or '').
 */
export interface AssignmentEvent {
  at: string;
  service: string;
  port: number | null;
  previous: number | null;
  why: string;
  /** Set on lines written since port.history; older lines get theirs from port/previous/why (core/history.ts). */
  action?: HistoryAction;
  /** Who did it, when known: a caller's user name, or "daemon". */
  by?: string;
}

/** One line of status history: a service's status was set at `at`; uptime statistics are computed from these. */
export interface StatusEvent {
  at: string;
  service: string;
  status: ServiceStatus;
  /** Set when the service started over: registered again by a new owner, or back from 'stopped'. */
  restart?: true;
}

export interface State {
  services: Record<string, ServiceRecord>;
  reservations: Record<string, Reservation>;
  conflicts: Record<string, Conflict>;
  history: AssignmentEvent[];
  statusLog: StatusEvent[];
  nextConflictId: number;
  /** Time-series buckets (core/series.ts); absent in states written before they existed. */
  series?: SeriesState;
  /** Recent health results per service (core/health-log.ts); absent in states written before they existed. */
  health?: HealthTable;
}

export type Op =
  | { op: 'service'; name: string; value: ServiceRecord | null }
  | { op: 'reservation'; key: string; value: Reservation | null }
  | { op: 'conflict'; id: string; value: Conflict | null }
  | { op: 'history'; value: AssignmentEvent }
  | { op: 'status'; value: StatusEvent }
  | { op: 'nextConflictId'; value: number }
  | { op: 'series'; value: { table: 'minute' | 'hour'; at: number; points: Record<string, number | null> } }
  | { op: 'seriesPrune'; value: { minuteBefore: number; hourBefore: number } }
  | { op: 'health'; name: string; value: HealthOpValue };

/** The number in a conflict id ("c12" -> 12). Ids are minted in increasing order, so it orders conflicts by when they were opened. */
export function conflictNumber(id: string): number {
  return Number(id.replace(/^c/, '')) || 0;
}

/** The most assignment-history lines kept; older ones are dropped first. */
export const HISTORY_LIMIT = 10_000;

/** The most status-log lines kept; older ones are dropped first. */
export const STATUS_LOG_LIMIT = 50_000;
/** The most status-log lines kept per service, so that one flapping service cannot push out everyone's history. */
export const STATUS_LOG_PER_SERVICE = 500;

export function emptyState(): State {
  return withPlainTables({ services: {}, reservations: {}, conflicts: {}, history: [], statusLog: [], nextConflictId: 1 });
}

/**
 * Gives the keyed tables no prototype, so that a client-chosen key such as
 * "constructor" or "toString" finds nothing instead of Object.prototype's
 * member. Every State the daemon holds passes through here.
 */
export function withPlainTables(state: State): State {
  state.services = Object.assign(Object.create(null) as State['services'], state.services);
  state.reservations = Object.assign(Object.create(null) as State['reservations'], state.reservations);
  state.conflicts = Object.assign(Object.create(null) as State['conflicts'], state.conflicts);
  if (state.health) state.health = Object.assign(Object.create(null) as HealthTable, state.health);
  return state;
}

export function portKey(protocol: Protocol, port: number): string {
  return `${protocol}/${port}`;
}

/** Applies one op in place. Used for live mutations and for journal replay alike. */
export function applyOp(state: State, op: Op): void {
  switch (op.op) {
    case 'service':
      setOrDelete(state.services, op.name, op.value && shared(op.value));
      // A service's health history goes with it.
      if (op.value === null && state.health) delete state.health[op.name];
      return;
    case 'reservation':
      setOrDelete(state.reservations, op.key, op.value && shared(op.value));
      return;
    case 'conflict':
      setOrDelete(state.conflicts, op.id, op.value && shared(op.value));
      return;
    case 'history':
      state.history.push(shared(op.value));
      trimOldest(state.history, HISTORY_LIMIT);
      return;
    case 'status':
      appendStatus(state.statusLog, shared(op.value));
      return;
    case 'nextConflictId':
      state.nextConflictId = op.value;
      return;
    case 'series':
      appendSeriesRow(seriesOf(state)[op.value.table], op.value.at, op.value.points, op.value.table);
      return;
    case 'seriesPrune':
      pruneSeries(seriesOf(state), op.value.minuteBefore, op.value.hourBefore);
      return;
    case 'health':
      applyHealth(healthTable(state), op.name, op.value);
      return;
  }
}

/**
 * A copy of a record built one key at a time, as kept in the state. Records
 * are made with object spread (`{ ...old, port }`), and on Node 20 every
 * object so made gets a hidden class (map) of its own: at 10,000 services the
 * maps of the services and their history lines held more heap than the
 * records themselves (bench: heap 22 -> 16 MiB). Copies with the same keys in
 * the same order share one map. Nested values are shared, not copied.
 */
function shared<T extends object>(record: T): T {
  const copy = {} as T;
  for (const key of Object.keys(record) as Array<keyof T>) copy[key] = record[key];
  return copy;
}

/**
 * State keeps times as ISO-8601 strings, as the wire does; `now` comes in as
 * ms. The last string is reused: a record and its history line, and a whole
 * batch made in the same millisecond, then share one string instead of
 * keeping a copy each (bench: 0.8 MiB at 10,000 services).
 */
export function iso(ms: number): string {
  if (ms !== lastIso.ms) lastIso = { ms, text: new Date(ms).toISOString() };
  return lastIso.text;
}
let lastIso = { ms: NaN, text: '' };

/** The op recording that `service` now has `status`. */
export function statusOp(service: string, status: ServiceStatus, now: number, restart = false): Op {
  return { op: 'status', value: { at: iso(now), service, status, ...(restart && { restart: true as const }) } };
}

/**
 * Drops the oldest entries of `log` beyond `limit`. Once a log is full every
 * append drops one line: `splice(0, 1)` copied the whole array for it (60 to
 * 150 us at 10,000 lines, on every mutation), while `shift()` on a long array
 * moves V8's start of the array instead of its elements. A log loaded longer
 * than the limit is cut down in one splice.
 */
export function trimOldest<T>(log: T[], limit: number): void {
  const excess = log.length - limit;
  if (excess === 1) log.shift();
  else if (excess > 1) log.splice(0, excess);
}

// Status lines are rare (changes only), so a scan for the service's oldest line is cheap enough.
function appendStatus(log: StatusEvent[], e: StatusEvent): void {
  log.push(e);
  let mine = 0;
  for (const x of log) if (x.service === e.service) mine++;
  if (mine > STATUS_LOG_PER_SERVICE)
    log.splice(
      log.findIndex((x) => x.service === e.service),
      1,
    );
  trimOldest(log, STATUS_LOG_LIMIT);
}

function setOrDelete<T>(table: Record<string, T>, key: string, value: T | null): void {
  if (value === null) delete table[key];
  else table[key] = value;
}

/** An event a core decision wants published once its ops are durable. */
export type EmittedEvent = { [T in EventType]: { type: T; data: EventData[T] } }[EventType];

/** What a core decision does: ops to apply and persist, then events to publish. */
export interface Effects {
  ops: Op[];
  events: EmittedEvent[];
}
