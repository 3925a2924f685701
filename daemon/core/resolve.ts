// conflict.resolve in two pure steps, so the shell can probe ports in between:
// planResolution says what would move and whether a port must be found;
// applyResolution, given that port, says what changes and what to announce.
import type { Conflict, Protocol, ResolveResult, Strategy } from '../../client/protocol.ts';
import { cannotResolve, invalidParams, notFound, portUnavailable } from './errors.ts';
import { portOfAddress } from './owner.ts';
import { reservationLine, setPortEffects, toService } from './service-effects.ts';
import { iso, portKey, type Effects, type Reservation, type ServiceRecord, type State } from './state.ts';

export interface ResolveRequest {
  service?: string;
  conflictId?: string;
  strategy: Strategy;
  newPort?: number;
  withService?: string;
  by: string;
}

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

const RANK = { critical: 0, warning: 1, info: 2 } as const;

/** Whether a strategy can act on a conflict of this type at all. */
function applies(strategy: Strategy, c: Conflict): boolean {
  // Moving a service does not free a reserved port from its listener; reserving settles no duplicate.
  return strategy === 'reserve' ? c.type !== 'duplicate_assignment' : c.type !== 'reserved_in_use';
}

/** Decides what a resolution will do. Throws DomainError for anything a client got wrong. */
export function planResolution(state: State, req: ResolveRequest): ResolvePlan {
  checkParams(req);
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
      return { ...base, needsPort: 'manual', target: req.newPort! };
    case 'swap':
      return { ...base, needsPort: null, ...swapPartner(state, service, req.withService!) };
    case 'auto': {
      const listened = conflict?.type === 'drift' && conflict.listener ? portOfAddress(conflict.listener.address) : null;
      // A drifted service moves to where its process already listens; the shell checks no one else holds it.
      return { ...base, needsPort: 'auto', ...(listened !== null && { target: listened }) };
    }
  }
}

function checkParams(req: ResolveRequest): void {
  if (req.service === undefined && req.conflictId === undefined) throw invalidParams('service', 'service or conflictId is required');
  if (req.strategy === 'manual') {
    if (req.newPort === undefined) throw invalidParams('newPort', 'is required for strategy manual');
    if (!Number.isInteger(req.newPort) || req.newPort < 1 || req.newPort > 65535) throw invalidParams('newPort', 'must be 1..65535');
  }
  if (req.strategy === 'swap' && req.withService === undefined) throw invalidParams('withService', 'is required for strategy swap');
}

/** The conflict named by id, or the most severe then oldest open one of the service that the strategy can act on. */
function findConflict(state: State, req: ResolveRequest): Conflict | null {
  if (req.conflictId !== undefined) {
    const c = state.conflicts[req.conflictId];
    if (!c) throw notFound('conflict', req.conflictId);
    if (c.resolvedAt !== null) throw cannotResolve(`conflict ${c.id} is already resolved`);
    return c;
  }
  const name = req.service!;
  if (!state.services[name]) throw notFound('service', name);
  const candidates = Object.values(state.conflicts).filter(
    (c) => c.resolvedAt === null && c.services.includes(name) && applies(req.strategy, c),
  );
  candidates.sort((a, b) => RANK[a.severity] - RANK[b.severity] || a.detectedAt.localeCompare(b.detectedAt) || idNumber(a) - idNumber(b));
  return candidates[0] ?? null;
}

function idNumber(c: Conflict): number {
  return Number(c.id.replace(/^c/, '')) || 0;
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
  involved.sort((a, b) => a.registeredAt.localeCompare(b.registeredAt) || a.name.localeCompare(b.name));
  return involved[involved.length - 1] ?? null;
}

function swapPartner(state: State, service: ServiceRecord, withService: string): { target: number; other: ServiceRecord } {
  const other = state.services[withService];
  if (!other) throw notFound('service', withService);
  if (other.name === service.name) throw cannotResolve('a service cannot swap ports with itself');
  if (other.protocol !== service.protocol) throw cannotResolve(`${service.name} is ${service.protocol} and ${other.name} is ${other.protocol}`);
  if (other.port === service.port) throw cannotResolve(`${service.name} and ${other.name} both hold port ${service.port}`);
  return { target: other.port, other };
}

/**
 * Carries out a plan against the current state (which may have moved on
 * while the shell probed ports). `to` is the port the shell chose or checked;
 * swap and reserve take theirs from the plan.
 */
export function applyResolution(state: State, plan: ResolvePlan, to: number, now: number, by: string): Effects & { result: ResolveResult } {
  const service = plan.service ? state.services[plan.service.name] : null;
  if (plan.service && !service) throw notFound('service', plan.service.name);
  const conflict = plan.conflict ? state.conflicts[plan.conflict.id] : null;
  if (plan.conflict && (!conflict || conflict.resolvedAt !== null)) throw cannotResolve(`conflict ${plan.conflict.id} was closed meanwhile`);
  if (plan.strategy === 'reserve') return reserve(state, service ?? null, conflict ?? null, plan.target!, now, by);
  return move(state, plan, service!, conflict ?? null, to, now, by);
}

function move(state: State, plan: ResolvePlan, service: ServiceRecord, conflict: Conflict | null, to: number, now: number, by: string) {
  const from = service.port;
  const why = `resolve:${plan.strategy}`;
  const fx: Effects = { ops: [], events: [] };
  const other = plan.other ? state.services[plan.other.name] : undefined;
  if (plan.other && !other) throw notFound('service', plan.other.name);
  if (other) to = other.port;
  if (to === from) throw cannotResolve(`${service.name} already holds port ${from}`);
  assertFree(state, service, to, other?.name);
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
    .sort();
}

/** The registry's own view: no other service holds `port`, and no reservation is for someone else. */
function assertFree(state: State, service: ServiceRecord, port: number, partner?: string): void {
  const holder = Object.values(state.services).find(
    (s) => s.protocol === service.protocol && s.port === port && s.name !== service.name && s.name !== partner,
  );
  if (holder) throw portUnavailable(port, 'assigned', { service: holder.name });
  const r = state.reservations[portKey(service.protocol, port)];
  if (r && !partner && r.for !== service.name) throw portUnavailable(port, 'reserved', r.for !== undefined ? { reservedFor: r.for } : {});
}

function reserve(state: State, service: ServiceRecord | null, conflict: Conflict | null, port: number, now: number, by: string) {
  const fx: Effects = { ops: [], events: [] };
  const protocol: Protocol = conflict?.protocol ?? service!.protocol;
  const key = portKey(protocol, port);
  const existing = state.reservations[key];
  if (service && existing?.for !== undefined && existing.for !== service.name) {
    throw cannotResolve(`port ${port} is reserved for ${existing.for}`);
  }
  if (service && existing?.for !== service.name) {
    const reason = conflict ? `conflict ${conflict.id}` : `reserved by ${by}`;
    const value: Reservation = { port, protocol, for: service.name, reason, createdAt: iso(now) };
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

