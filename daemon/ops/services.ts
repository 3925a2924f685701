// Service operations: register, move, unregister, and the service views.
import { compareNames } from '../../client/protocol.ts';
import type {
  Conflict,
  HealthCheck,
  HealthResult,
  Owner,
  RegisterParams,
  RegisterResult,
  Service,
  ServiceDetail,
  ServiceStatus,
} from '../../client/protocol.ts';
import { notFound, overPortQuota, portUnavailable } from '../core/errors.ts';
import type { PortIndex } from '../core/portindex.ts';
import { registerEffects, setPortEffects, toService, unregisterEffects } from '../core/service-effects.ts';
import { takenBy } from '../core/taken.ts';
import type { Allocator } from './allocator.ts';
import { recheck } from './reconciler.ts';
import { contains } from '../core/ranges.ts';
import { processStart } from '../host/process.ts';
import type { Precondition, Registry } from '../registry.ts';

export type RegisterRequest = Omit<RegisterParams, 'healthCheck'> &
  Required<Pick<RegisterParams, 'protocol' | 'host'>> & { healthCheck?: HealthCheck | null } & Creator;

/**
 * Who creates a record, and its token's hash (daemon/access/guard.ts); an
 * existing record keeps its own. `quota`: how many services and reservations
 * the owner may own in all (limits.maxPortsPerUser); absent for admins.
 */
export type Creator = { owner?: Owner; tokenHash?: string; quota?: number };

/**
 * Refuses (-32005) a new record its creator may not own: it owns its quota
 * already. Checked inside the lock, where the count cannot change before the
 * record is made. `ending`: records of its own that the call ends first.
 */
export function checkQuota(index: PortIndex, p: Creator, ending = 0): void {
  if (!p.owner || p.quota === undefined) return;
  const held = index.ownedBy(p.owner.uid) - ending;
  if (held >= p.quota) throw overPortQuota(p.owner, held, p.quota);
}

function openConflictsOf(registry: Registry, name: string): Conflict[] {
  return Object.values(registry.state.conflicts).filter((c) => c.resolvedAt === null && c.services.includes(name));
}

export async function register(
  registry: Registry,
  allocator: Allocator,
  p: RegisterRequest,
  check?: Precondition,
): Promise<RegisterResult> {
  const pidStart = p.pid !== undefined ? await processStart(p.pid) : null;
  return registry.mutate(async (tx) => {
    const old = tx.state.services[p.name];
    if (!old) checkQuota(tx.index, p);
    let port = p.port;
    // Registering again keeps the port it has, while that still fits what is asked.
    if (
      port === undefined &&
      old &&
      old.protocol === p.protocol &&
      (p.range === undefined || contains(allocator.rangeFor({ range: p.range }).range, old.port))
    )
      port = old.port;
    if (port === undefined) {
      port = await allocator.pickPort({
        protocol: p.protocol,
        host: p.host,
        name: p.name,
        ...(p.range !== undefined && { range: p.range }),
      });
    } else if (p.exclusive) {
      // An explicit port records what is, and its listener is most likely the registering process itself.
      const taken = takenBy(tx.state, tx.index, p.protocol, port, { self: [p.name], listeners: false });
      if (taken) throw portUnavailable(port, taken.reason, taken.heldBy);
    }
    // Like tags, an omitted check is kept; null removes it. So is a restart action, and the policies.
    const check = p.healthCheck === null ? undefined : (p.healthCheck ?? old?.healthCheck);
    const restart = p.restart === null ? undefined : (p.restart ?? old?.restart);
    const onPortChange = p.onPortChange ?? old?.onPortChange;
    const autoResolve = p.autoResolve ?? old?.autoResolve;
    const e = registerEffects(
      tx.state,
      {
        name: p.name,
        port,
        protocol: p.protocol,
        host: p.host,
        ...(p.pid !== undefined && { pid: p.pid }),
        ...(pidStart !== null && { pidStart }),
        ...(p.process !== undefined && { process: p.process }),
        ...(check && { healthCheck: check }),
        tags: p.tags ?? old?.tags ?? [],
        ...(restart && { restart }),
        ...(onPortChange !== undefined && { onPortChange }),
        ...(autoResolve !== undefined && { autoResolve }),
        origin: 'register',
        ...(p.owner && { owner: p.owner }),
        ...(p.tokenHash !== undefined && { tokenHash: p.tokenHash }),
      },
      registry.now(),
    );
    tx.apply(e);
    recheck(tx, registry.now());
    const conflicts = openConflictsOf(registry, p.name);
    const result: RegisterResult = toService(tx.state.services[p.name]!);
    if (conflicts.length > 0) result.conflicts = conflicts;
    return result;
  }, check);
}

export function setPort(
  registry: Registry,
  allocator: Allocator,
  p: { name: string; port: number },
  check?: Precondition,
): Promise<Service> {
  return registry.mutate(async (tx) => {
    const service = tx.state.services[p.name];
    if (!service) throw notFound('service', p.name);
    if (service.port === p.port) return toService(service);
    const taken = takenBy(tx.state, tx.index, service.protocol, p.port, { self: [p.name] });
    if (taken) throw portUnavailable(p.port, taken.reason, taken.heldBy);
    const refused = await allocator.probe(p.port, service.protocol, service.host);
    if (refused) throw portUnavailable(p.port, `bind probe failed (${refused})`, {});
    tx.apply(setPortEffects(tx.state, p.name, p.port, registry.now(), 'setPort'));
    recheck(tx, registry.now());
    return toService(tx.state.services[p.name]!);
  }, check);
}

export function unregister(registry: Registry, name: string, check?: Precondition): Promise<{ name: string; releasedPorts: number[] }> {
  return registry.mutate((tx) => {
    if (!tx.state.services[name]) throw notFound('service', name);
    const e = unregisterEffects(tx.state, name, registry.now(), 'unregister');
    tx.apply(e);
    recheck(tx, registry.now());
    return { name, releasedPorts: e.releasedPorts };
  }, check);
}

export function listServices(registry: Registry, p: { status?: ServiceStatus; tag?: string }): Service[] {
  return Object.values(registry.state.services)
    .filter((s) => (p.status === undefined || s.status === p.status) && (p.tag === undefined || s.tags.includes(p.tag)))
    .sort((a, b) => compareNames(a.name, b.name))
    .map(toService);
}

export function getService(registry: Registry, name: string, health: ReadonlyMap<string, HealthResult>): ServiceDetail {
  const s = registry.state.services[name];
  if (!s) throw notFound('service', name);
  return { ...toService(s), conflicts: openConflictsOf(registry, name), health: health.get(name) ?? null };
}
