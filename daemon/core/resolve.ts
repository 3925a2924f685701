// conflict.resolve in two pure steps, so the shell can probe ports in between:
// planResolution says what would move and whether a port must be found;
// applyResolution, given that port, says what changes and what to announce.
import {
  compareNames,
  SEVERITIES,
  type Conflict,
  type Owner,
  type Protocol,
  type ResolveResult,
  type Strategy,
} from '../../client/protocol.ts';
import { cannotResolve, invalidParams, notFound, portUnavailable } from './errors.ts';
import { portOfAddress } from './owner.ts';
import type { PortIndex } from './portindex.ts';
import { reservationLine, setPortEffects, toService } from './service-effects.ts';
import { takenBy } from './taken.ts';
import { conflictNumber, iso, portKey, type Effects, type Reservation, type ServiceRecord, type State } from './state.ts';

/**
 * A conflict.resolve request as the route validated it: a service or a
 * conflict id (or both), and what the strategy needs, so nothing here checks
 * params again.
 */
export type ResolveRequest = ({ service: string; conflictId?: string } | { service?: undefined; conflictId: string }) &
  ({ strategy: 'auto' | 'reserve' } | { strategy: 'manual'; newPort: number } | { strategy: 'swap'; withService: string }) & { by: string };

export interface ResolvePlan {
  conflict: Conflict | null;
  /** null only when reserve acknowledges a reserved_in_use whose reservation names no service. */
  service: ServiceRecord | null;
  strategy: Strategy;
  /**
   * 'auto': the shell allocates a free port, or with `target` (drift) checks that only the service's own process uses it;
   * 'manual': the shell checks `target` is free; null: `target` is decided (swap, reserve).
   */
  needsPort: 'auto' | 'manual' | null;
  /** manual: newPort; swap: the other service's port; drift-auto: where the process listens; reserve: the contested port. */
  target?: number;
  other?: ServiceRecord;
}

/** Whether a strategy can act on a conflict of this type at all. */
function applies(strategy: Strategy, c: Conflict): boolean {
  // Moving a service does not free a reserved port from its listener; reserving settles no duplicate.
  return strategy === 'reserve' ? c.type !== 'duplicate_assignment' : c.type !== 'reserved_in_use';
}

/** Decides what a resolution will do. Throws DomainError for anything a client got wrong. */
export function planResolution(state: State, req: ResolveRequest): ResolvePlan {
  const conflict = findConflict(state, req);
  const service = mover(state, req, conflict);
  if (conflict && !applies(req.strategy, conflict)) {
    throw cannotResolve(
      conflict.type === 'reserved_in_use'
        ? `the listener on reserved port ${conflict.port} is no registered service; stop it, or acknowledge with strategy reserve`
        : `two services hold port ${conflict.port}; reserving it settles nothing: move one with auto, manual or swap`,
    );
  }
  const base = { conflict, service, strategy: req.strategy };
  if (!service) {
    if (req.strategy === 'reserve' && conflict) return { ...base, needsPort: null, target: conflict.port };
    throw cannotResolve(`conflict ${conflict?.id} involves no registered service`);
  }
  switch (req.strategy) {
    case 'reserve':
      return { ...base, needsPort: null, target: conflict?.port ?? service.port };
    case 'manual':
      if (req.newPort === service.port) throw cannotResolve(`${service.name} already holds port ${service.port}`);
      return { ...base, needsPort: 'manual', target: req.newPort };
    case 'swap':
      return { ...base, needsPort: null, ...swapPartner(state, service, req.withService) };
    case 'auto': {
      const listened = conflict?.type === 'drift' && conflict.listener ? portOfAddress(conflict.listener.address) : null;
      // A drifted service moves to where its process already listens; the shell checks no one else holds it.
      return { ...base, needsPort: 'auto', ...(listened !== null && { target: listened }) };
    }
  }
}

/** The conflict named by id, or the most severe then oldest open one of the service that the strategy can act on. */
function findConflict(state: State, req: ResolveRequest): Conflict | null {
  if (req.service === undefined) return openConflict(state, req.conflictId);
  if (req.conflictId !== undefined) return openConflict(state, req.conflictId);
  const name = req.service;
  if (!state.services[name]) throw notFound('service', name);
  const candidates = Object.values(state.conflicts).filter(
    (c) => c.resolvedAt === null && c.services.includes(name) && applies(req.strategy, c),
  );
  candidates.sort(
    (a, b) =>
      SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity) ||
      a.detectedAt.localeCompare(b.detectedAt) ||
      conflictNumber(a.id) - conflictNumber(b.id),
  );
  return candidates[0] ?? null;
}

function openConflict(state: State, id: string): Conflict {
  const c = state.conflicts[id];
  if (!c) throw notFound('conflict', id);
  if (c.resolvedAt !== null) throw cannotResolve(`conflict ${c.id} is already resolved`);
  return c;
}

/** Which service moves: the one asked for, else the most recently registered one in the conflict. */
function mover(state: State, req: ResolveRequest, conflict: Conflict | null): ServiceRecord | null {
  if (req.service !== undefined) {
    const s = state.services[req.service];
    if (!s) throw notFound('service', req.service);
    if (conflict && !conflict.services.includes(s.name)) throw invalidParams('service', `is not involved in conflict ${conflict.id}`);
    return s;
  }
  const involved = conflict!.services.flatMap((n) => state.services[n] ?? []);
  involved.sort((a, b) => a.registeredAt.localeCompare(b.registeredAt) || compareNames(a.name, b.name));
  return involved[involved.length - 1] ?? null;
}

function swapPartner(state: State, service: ServiceRecord, withService: string): { target: number; other: ServiceRecord } {
  const other = state.services[withService];
  if (!other) throw notFound('service', withService);
  if (other.name === service.name) throw cannotResolve('a service cannot swap ports with itself');
  if (other.protocol !== service.protocol)
    throw cannotResolve(`${service.name} is ${service.protocol} and ${other.name} is ${other.protocol}`);
  if (other.port === service.port) throw cannotResolve(`${service.name} and ${other.name} both hold port ${service.port}`);
  return { target: other.port, other };
}

/**
 * Carries out a plan against the current state (which may have moved on
 * while the shell probed ports). `to` is the port the shell chose or checked;
 * swap and reserve take theirs from the plan.
 */
export function applyResolution(
  state: State,
  index: PortIndex,
  plan: ResolvePlan,
  to: number,
  now: number,
  by: string,
  /** Who owns a reservation that reserve makes (the caller); absent: the daemon's user. */
  owner?: Owner,
): Effects & { result: ResolveResult } {
  const service = plan.service ? state.services[plan.service.name] : null;
  if (plan.service && !service) throw notFound('service', plan.service.name);
  const conflict = plan.conflict ? state.conflicts[plan.conflict.id] : null;
  if (plan.conflict && (!conflict || conflict.resolvedAt !== null))
    throw cannotResolve(`conflict ${plan.conflict.id} was closed meanwhile`);
  if (plan.strategy === 'reserve') return reserve(state, service ?? null, conflict ?? null, plan.target!, now, by, owner);
  return move(state, index, plan, service!, conflict ?? null, to, now, by);
}

function move(
  state: State,
  index: PortIndex,
  plan: ResolvePlan,
  service: ServiceRecord,
  conflict: Conflict | null,
  to: number,
  now: number,
  by: string,
) {
  const from = service.port;
  // The daemon's own moves are told apart in the history: port.history says "daemon", and the back-off counts them.
  const why = by === 'daemon' ? `resolve:${plan.strategy}:daemon` : `resolve:${plan.strategy}`;
  const fx: Effects = { ops: [], events: [] };
  const other = plan.other ? state.services[plan.other.name] : undefined;
  if (plan.other && !other) throw notFound('service', plan.other.name);
  if (other) to = other.port;
  if (to === from) throw cannotResolve(`${service.name} already holds port ${from}`);
  assertFree(state, index, service, to, other);
  if (other) assertFree(state, index, other, from, service);
  const first = setPortEffects(state, service.name, to, now, why);
  const second = other ? setPortEffects(state, other.name, from, now, why) : { ops: [], events: [] };
  fx.ops.push(...first.ops, ...second.ops);
  fx.events.push(...first.events, ...second.events);
  let after: Conflict | null = null;
  const moves = new Map([[service.name, to], ...(other ? [[other.name, from] as const] : [])]);
  const left = conflict?.type === 'duplicate_assignment' ? holdersAfter(state, conflict, moves) : [];
  if (conflict && left.length >= 2) {
    // Others still share the port: the conflict stays open, with who is left in it.
    after = { ...conflict, services: left };
    fx.ops.push({ op: 'conflict', id: after.id, value: after });
  } else if (conflict) {
    after = { ...conflict, resolvedAt: iso(now), resolution: { strategy: plan.strategy, from, to, by }, outcome: 'resolved' };
    fx.ops.push({ op: 'conflict', id: after.id, value: after });
    fx.events.push({ type: 'conflict_resolved', data: after });
  }
  return { ...fx, result: { conflict: after, service: toService(first.service), from, to } };
}

/** The services on a duplicate's port once `moves` (name -> new port) are made, sorted. */
function holdersAfter(state: State, conflict: Conflict, moves: ReadonlyMap<string, number>): string[] {
  return Object.values(state.services)
    .filter((s) => s.protocol === conflict.protocol && (moves.get(s.name) ?? s.port) === conflict.port)
    .map((s) => s.name)
    .sort(compareNames);
}

/**
 * The registry's own view of the port a service moves to: no other service
 * holds it and no reservation is for someone else. The two services of a swap
 * are not someone else to each other. Listeners are the shell's business: it
 * checked them with a bind probe before deciding.
 */
function assertFree(state: State, index: PortIndex, service: ServiceRecord, port: number, partner?: ServiceRecord): void {
  const self = partner ? [service.name, partner.name] : [service.name];
  const taken = takenBy(state, index, service.protocol, port, { self, listeners: false });
  if (taken) throw portUnavailable(port, taken.reason, taken.heldBy);
}

function reserve(
  state: State,
  service: ServiceRecord | null,
  conflict: Conflict | null,
  port: number,
  now: number,
  by: string,
  owner: Owner | undefined,
) {
  const fx: Effects = { ops: [], events: [] };
  const protocol: Protocol = conflict?.protocol ?? service!.protocol;
  const key = portKey(protocol, port);
  const existing = state.reservations[key];
  if (service && existing?.for !== undefined && existing.for !== service.name) {
    throw cannotResolve(`port ${port} is reserved for ${existing.for}`);
  }
  if (service && existing?.for !== service.name) {
    const reason = conflict ? `conflict ${conflict.id}` : `reserved by ${by}`;
    // Owned like any reservation (counted against limits.maxPortsPerUser, released by its owner); one reserved again keeps its owner and token.
    const access = existing ? { owner: existing.owner, tokenHash: existing.tokenHash } : { owner, tokenHash: undefined };
    const value: Reservation = {
      port,
      protocol,
      for: service.name,
      reason,
      createdAt: iso(now),
      ...(access.owner && { owner: access.owner }),
      ...(access.tokenHash !== undefined && { tokenHash: access.tokenHash }),
    };
    fx.ops.push({ op: 'reservation', key, value });
    if (!existing) fx.ops.push(reservationLine(value, 'reserved', now, 'resolve:reserve'));
  }
  let acknowledged: Conflict | null = null;
  if (conflict) {
    // Stays open: reconcile closes it, as resolved, once the foreign listener is gone.
    acknowledged = { ...conflict, acknowledged: true, resolution: { strategy: 'reserve', from: port, to: port, by } };
    fx.ops.push({ op: 'conflict', id: conflict.id, value: acknowledged });
  }
  return { ...fx, result: { conflict: acknowledged, service: service ? toService(service) : null, from: port, to: port } };
}
