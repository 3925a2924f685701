// Decisions about services and their ports, as Effects: register, move,
// unregister, release, reserve. The registry has already chosen and checked
// any port; these only say what changes and what to announce.
import type { HealthCheck, Owner, PortChangePolicy, Protocol, RestartAction, Service } from '../../client/protocol.ts';
import {
  iso,
  portKey,
  statusOp,
  type AssignmentEvent,
  type Effects,
  type Op,
  type Origin,
  type Reservation,
  type ServiceRecord,
  type State,
} from './state.ts';
import { without } from './copy.ts';

export interface ServiceInput {
  name: string;
  port: number;
  protocol: Protocol;
  host: string;
  pid?: number;
  /** The pid's start mark, read by the shell when the service was registered. */
  pidStart?: string;
  process?: string;
  healthCheck?: HealthCheck;
  tags: string[];
  origin: Origin;
  expiresAt?: string;
  /** Who creates it, and its token's hash; an existing service keeps its own. */
  owner?: Owner;
  tokenHash?: string;
  restart?: RestartAction;
  onPortChange?: PortChangePolicy;
  autoResolve?: boolean;
}

/** What a redacted restart.env value or restart.cwd reads as. */
export const REDACTED = '***';

/**
 * The wire form of a record: the contract's Service, without internal fields,
 * and with its restart command's env values and cwd replaced by "***" (the
 * names stay): lists, events and results reach every caller who can connect.
 * service.get shows them to the owner or an admin (see revealRestart).
 */
export function toService(r: ServiceRecord): Service {
  const service: Service = without(r, INTERNAL);
  if (r.restart && hasSecrets(r.restart)) service.restart = redacted(r.restart);
  return service;
}

/** The record's fields the wire never shows. */
const INTERNAL = ['origin', 'adopted', 'pidStart', 'tokenHash'] as const;

/** Whether the action carries something toService hides. */
export function hasSecrets(a: RestartAction): boolean {
  return 'command' in a && (a.env !== undefined || a.cwd !== undefined);
}

function redacted(a: RestartAction): RestartAction {
  if (!('command' in a)) return a;
  return {
    ...a,
    ...(a.cwd !== undefined && { cwd: REDACTED }),
    ...(a.env !== undefined && { env: Object.fromEntries(Object.keys(a.env).map((k) => [k, REDACTED])) }),
  };
}

function history(now: number, service: string, port: number | null, previous: number | null, why: string): AssignmentEvent {
  return { at: iso(now), service, port, previous, why };
}

/** The history line of a reservation made or lifted; `service` is who it is for, if anyone. */
export function reservationLine(r: Reservation, action: 'reserved' | 'unreserved', now: number, why: string): Op {
  const [port, previous] = action === 'reserved' ? [r.port, null] : [null, r.port];
  return { op: 'history', value: { at: iso(now), service: r.for ?? '', port, previous, why, action } };
}

/** Creates or updates a service. An update keeps registeredAt, and its status while the owner is the same. */
export function registerEffects(state: State, input: ServiceInput, now: number): Effects & { service: ServiceRecord } {
  const old = state.services[input.name];
  // Registering again without naming an owner keeps the one adopted from the port's listener.
  const keepAdopted = old?.adopted === true && input.pid === undefined && input.process === undefined && old.port === input.port;
  // A new service, a new owner process (another pid, or the same pid started again), or one coming back from 'stopped' starts over as 'registered'.
  const otherStart = old?.pidStart !== undefined && input.pidStart !== undefined && old.pidStart !== input.pidStart;
  const newOwner = !keepAdopted && (old?.pid !== input.pid || otherStart);
  const startsOver = !old || old.status === 'stopped' || newOwner;
  // Without a check nothing keeps a healthy/unhealthy verdict true: it goes back to unjudged.
  const checkRemoved = !startsOver && !input.healthCheck && (old.status === 'healthy' || old.status === 'unhealthy');
  // Who may act on it is settled when it is created: an update never changes hands.
  const access = old ? { owner: old.owner, tokenHash: old.tokenHash } : { owner: input.owner, tokenHash: input.tokenHash };
  // Built key by key (core/copy.ts), in the order `{ ...fields, owner, tokenHash, ...adopted, status, ... }` gives.
  const service = without(input, ['owner', 'tokenHash']) as ServiceRecord;
  if (access.owner) service.owner = access.owner;
  if (access.tokenHash !== undefined) service.tokenHash = access.tokenHash;
  if (keepAdopted) {
    service.pid = old.pid;
    service.process = old.process;
    service.adopted = true;
  }
  service.status = startsOver || checkRemoved ? 'registered' : old.status;
  service.registeredAt = old?.registeredAt ?? iso(now);
  service.updatedAt = iso(now);
  // An explicit registration turns an allocation-born service into a registered one.
  service.origin = old?.origin === 'register' ? 'register' : input.origin;
  const effects: Effects & { service: ServiceRecord } = { service, ops: [{ op: 'service', name: input.name, value: service }], events: [] };
  // A start-over is logged even when the status was already 'registered': it is a restart for stats.services.
  // A brand-new service logs nothing: 'registered' is unjudged time, and allocations come by the thousand.
  if (old && (startsOver || checkRemoved)) effects.ops.push(statusOp(input.name, 'registered', now, startsOver));
  const protocolChanged = old !== undefined && old.protocol !== input.protocol;
  if (!old || old.port !== input.port || protocolChanged) {
    // Another protocol is another port: the old one is given up, not moved.
    if (protocolChanged) effects.events.push({ type: 'port_released', data: { port: old.port, service: input.name } });
    const previous = old && !protocolChanged ? { previous: old.port } : {};
    effects.ops.push({
      op: 'history',
      value: history(now, input.name, input.port, old?.port ?? null, old ? 'register:update' : input.origin),
    });
    effects.events.push({ type: 'port_assigned', data: { service: input.name, port: input.port, ...previous } });
  }
  effects.events.unshift({ type: 'service_registered', data: toService(service) });
  return effects;
}

/** Moves a service to another port. */
export function setPortEffects(state: State, name: string, port: number, now: number, why: string): Effects & { service: ServiceRecord } {
  const old = state.services[name]!;
  const service: ServiceRecord = { ...old, port, updatedAt: iso(now) };
  if (old.port === port) return { service: old, ops: [], events: [] };
  return {
    service,
    ops: [
      { op: 'service', name, value: service },
      { op: 'history', value: history(now, name, port, old.port, why) },
    ],
    events: [{ type: 'port_assigned', data: { service: name, port, previous: old.port } }],
  };
}

/** Removes a service and gives up its port. */
export function unregisterEffects(state: State, name: string, now: number, why: string): Effects & { releasedPorts: number[] } {
  const old = state.services[name]!;
  return {
    releasedPorts: [old.port],
    ops: [
      { op: 'service', name, value: null },
      { op: 'history', value: history(now, name, null, old.port, why) },
    ],
    events: [
      { type: 'port_released', data: { port: old.port, service: name } },
      { type: 'service_unregistered', data: { name, releasedPorts: [old.port] } },
    ],
  };
}

/**
 * Releases a port: every service holding it (or only `only`) is unregistered,
 * since a service cannot exist without a port, and its reservation is lifted.
 */
export function releaseEffects(state: State, protocol: Protocol, port: number, holders: string[], now: number): Effects {
  const effects: Effects = { ops: [], events: [] };
  for (const name of holders) {
    const u = unregisterEffects(state, name, now, 'release');
    effects.ops.push(...u.ops);
    effects.events.push(...u.events);
  }
  const key = portKey(protocol, port);
  const reservation = state.reservations[key];
  if (reservation) {
    effects.ops.push({ op: 'reservation', key, value: null }, reservationLine(reservation, 'unreserved', now, 'release'));
    if (holders.length === 0) effects.events.push({ type: 'port_released', data: { port } });
  }
  return effects;
}

/** Makes or updates a reservation; `line` records a new one in the history. */
export function reserveEffects(reservation: Reservation, line?: { now: number; why: string }): Effects {
  const ops: Op[] = [{ op: 'reservation', key: portKey(reservation.protocol, reservation.port), value: reservation }];
  if (line) ops.push(reservationLine(reservation, 'reserved', line.now, line.why));
  return { ops, events: [] };
}
