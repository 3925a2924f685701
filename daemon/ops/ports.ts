// Port operations: allocate, release, reserve, suggest, and the port views.
import type { AllocateParams, AllocateResult, PortInfo, PortState, Protocol, ReleaseResult } from '../../client/protocol.ts';
import { invalidParams, portUnavailable } from '../core/errors.ts';
import { expired } from '../core/lifecycle.ts';
import { toListener } from '../core/owner.ts';
import { contains } from '../core/ranges.ts';
import { registerEffects, releaseEffects, reserveEffects, unregisterEffects } from '../core/service-effects.ts';
import { iso, portKey, type Reservation } from '../core/state.ts';
import { takenBy } from '../core/taken.ts';
import type { Allocator } from './allocator.ts';
import { processStart } from '../host/process.ts';
import type { Precondition, Registry } from '../registry.ts';
import { checkQuota, type Creator } from './services.ts';

export async function allocate(
  registry: Registry,
  allocator: Allocator,
  p: Required<Pick<AllocateParams, 'service' | 'protocol' | 'host'>> & AllocateParams & Creator,
  check?: Precondition,
): Promise<AllocateResult> {
  // Read before the lock (on macOS it runs `ps`), and not for a live lease asked for again: it keeps its record.
  const before = registry.state.services[p.service];
  const pidStart = p.pid !== undefined && !(before && !expired(before, registry.now())) ? await processStart(p.pid) : null;
  return registry.mutate(async (tx) => {
    const now = registry.now();
    const expiresAt = p.ttlSec !== undefined ? iso(now + p.ttlSec * 1000) : undefined;
    const held = tx.state.services[p.service];
    const live = held && !expired(held, now);
    if (held && live) {
      if (held.protocol !== p.protocol) {
        throw invalidParams(
          'protocol',
          `service "${p.service}" holds ${held.protocol} port ${held.port}; a service holds one port, so allocate the ${p.protocol} port under another name`,
        );
      }
      if (p.range !== undefined && !contains(allocator.rangeFor({ range: p.range }).range, held.port)) {
        throw invalidParams(
          'range',
          `service "${p.service}" already holds port ${held.port}, outside ${p.range}; release it (port.release) or move it (service.setPort) first`,
        );
      }
      if (p.exclude?.includes(held.port)) {
        throw invalidParams(
          'exclude',
          `service "${p.service}" already holds port ${held.port}, which exclude names; release it (port.release) or move it (service.setPort) first`,
        );
      }
      // The same service asking again gets the same port; a new ttl extends the lease.
      if (expiresAt && held.origin === 'allocate') {
        tx.apply({ ops: [{ op: 'service', name: p.service, value: { ...held, expiresAt, updatedAt: iso(now) } }], events: [] });
        return { port: held.port, service: p.service, expiresAt };
      }
      return { port: held.port, service: p.service, ...(held.expiresAt && { expiresAt: held.expiresAt }) };
    }
    // A lease that ran out (ended below) no longer counts against its owner.
    checkQuota(tx.index, p, held?.owner !== undefined && held.owner.uid === p.owner?.uid ? 1 : 0);
    const port = await allocator.pickPort({
      protocol: p.protocol,
      host: p.host,
      ...(p.range !== undefined && { range: p.range }),
      ...(p.preferred !== undefined && { preferred: p.preferred }),
      name: p.service,
      lease: p.ttlSec !== undefined,
      ...(p.exclude !== undefined && { avoid: p.exclude }),
    });
    // A lease that ran out but was not yet swept ends properly before its successor starts.
    if (held) tx.apply(unregisterEffects(tx.state, p.service, now, 'lease-expired'));
    tx.apply(
      registerEffects(
        tx.state,
        {
          name: p.service,
          port,
          protocol: p.protocol,
          host: p.host,
          ...(p.pid !== undefined && { pid: p.pid }),
          ...(pidStart !== null && { pidStart }),
          tags: held?.tags ?? [],
          origin: 'allocate',
          ...(expiresAt && { expiresAt }),
          ...(p.owner && { owner: p.owner }),
          ...(p.tokenHash !== undefined && { tokenHash: p.tokenHash }),
        },
        now,
      ),
    );
    return { port, service: p.service, ...(expiresAt && { expiresAt }) };
  }, check);
}

export function release(
  registry: Registry,
  p: { port: number; protocol: Protocol; service?: string },
  check?: Precondition,
): Promise<ReleaseResult> {
  return registry.mutate((tx) => {
    const all = tx.index.holdersOf(p.protocol, p.port);
    const holders = p.service !== undefined ? all.filter((h) => h === p.service) : all;
    const reserved = p.service === undefined && tx.state.reservations[portKey(p.protocol, p.port)] !== undefined;
    if (holders.length === 0 && !reserved) {
      const reason = all.length > 0 ? `held by ${all.join(', ')}, not ${p.service}` : 'nothing holds it';
      return { port: p.port, released: false, reason };
    }
    tx.apply(releaseEffects(tx.state, p.protocol, p.port, holders, registry.now()));
    return { port: p.port, released: true, ...(holders.length > 0 && { unregistered: holders }) };
  }, check);
}

export function reserve(
  registry: Registry,
  p: { port: number; protocol: Protocol; for?: string; reason?: string; ttlSec?: number } & Creator,
  check?: Precondition,
): Promise<PortInfo> {
  return registry.mutate((tx) => {
    // Reserving over a reservation updates it, and a listener is what a reservation warns about: only another service's hold refuses.
    const taken = takenBy(tx.state, tx.index, p.protocol, p.port, { self: p.for !== undefined ? [p.for] : [], listeners: false });
    if (taken?.reason === 'assigned') throw portUnavailable(p.port, taken.reason, taken.heldBy);
    const now = registry.now();
    // Reserving again updates what is given and keeps the rest.
    const old = tx.state.reservations[portKey(p.protocol, p.port)];
    if (!old) checkQuota(tx.index, p);
    const reservation: Reservation = {
      ...old,
      port: p.port,
      protocol: p.protocol,
      createdAt: old?.createdAt ?? iso(now),
      // A new reservation is its creator's; one reserved again keeps its owner and token.
      ...(!old && p.owner && { owner: p.owner }),
      ...(!old && p.tokenHash !== undefined && { tokenHash: p.tokenHash }),
      ...(p.for !== undefined && { for: p.for }),
      ...(p.reason !== undefined && { reason: p.reason }),
      ...(p.ttlSec !== undefined && { expiresAt: iso(now + p.ttlSec * 1000) }),
    };
    tx.apply(reserveEffects(reservation, old ? undefined : { now, why: 'reserve' }));
    return portInfo(registry, p.protocol, p.port);
  }, check);
}

export async function suggest(
  allocator: Allocator,
  p: { count: number; range?: string; near?: number; protocol: Protocol },
): Promise<{ ports: number[] }> {
  return { ports: await allocator.suggestFree(p) };
}

/** What is known about one port. */
export function portInfo(registry: Registry, protocol: Protocol, port: number): PortInfo {
  const { state, index } = registry;
  const taken = takenBy(state, index, protocol, port);
  const listener = index.listenersOf(protocol, port)[0];
  const base = { port, protocol, ...(listener && { listener: toListener(listener) }) };
  if (taken?.reason === 'assigned') {
    const s = state.services[taken.services[0]!]!;
    const r = state.reservations[portKey(protocol, port)];
    const shared = taken.services.length > 1 ? { services: taken.services } : {};
    return {
      ...base,
      state: 'assigned',
      service: s.name,
      ...shared,
      ...(s.expiresAt && { expiresAt: s.expiresAt }),
      ...(r?.for && { reservedFor: r.for }),
    };
  }
  if (taken?.reason === 'reserved') {
    const r = taken.reservation;
    return {
      ...base,
      state: 'reserved',
      ...(r.for && { reservedFor: r.for }),
      ...(r.reason && { reason: r.reason }),
      ...(r.expiresAt && { expiresAt: r.expiresAt }),
      ...(r.owner && { owner: r.owner }),
    };
  }
  return { ...base, state: taken ? 'listening' : 'free' };
}

/** Every assigned, reserved and listening port (and free ones when asked for), by port. */
export function listPorts(registry: Registry, allocator: Allocator, p: { state?: PortState; range?: string; limit: number }): PortInfo[] {
  const span = p.range !== undefined ? allocator.rangeFor({ range: p.range }).range : null;
  const inRange = (port: number) => !span || contains(span, port);
  if (p.state === 'free') {
    const { range } = allocator.rangeFor(p.range !== undefined ? { range: p.range } : {});
    const out: PortInfo[] = [];
    for (let port = Math.max(range.start, 1); port <= range.end && out.length < p.limit; port++) {
      if (!registry.index.isTaken('tcp', port)) out.push({ port, protocol: 'tcp', state: 'free' });
    }
    return out;
  }
  const keys = new Map<string, { protocol: Protocol; port: number }>();
  const add = (protocol: Protocol, port: number) => inRange(port) && keys.set(portKey(protocol, port), { protocol, port });
  for (const s of Object.values(registry.state.services)) add(s.protocol, s.port);
  for (const r of Object.values(registry.state.reservations)) add(r.protocol, r.port);
  for (const o of registry.index.allListeners()) add(o.protocol, o.port);
  const infos = [...keys.values()].map((k) => portInfo(registry, k.protocol, k.port));
  return infos
    .filter((i) => p.state === undefined || i.state === p.state)
    .sort((a, b) => a.port - b.port || a.protocol.localeCompare(b.protocol))
    .slice(0, p.limit);
}
