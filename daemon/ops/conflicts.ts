// Conflict operations: resolve, and the views. Scans are taken in by the reconciler.
import type { Conflict, ResolveResult } from '../../client/protocol.ts';
import { portUnavailable } from '../core/errors.ts';
import { applyResolution, planResolution, type ResolveRequest } from '../core/resolve.ts';
import { conflictNumber, portKey } from '../core/state.ts';
import { takenBy } from '../core/taken.ts';
import type { Allocator } from './allocator.ts';
import { recheck } from './reconciler.ts';
import type { Precondition, Registry } from '../registry.ts';
import { checkQuota, type Creator } from './services.ts';

export function listConflicts(registry: Registry, open: boolean): Conflict[] {
  return Object.values(registry.state.conflicts)
    .filter((c) => (c.resolvedAt === null) === open)
    .sort((a, b) => b.detectedAt.localeCompare(a.detectedAt) || conflictNumber(b.id) - conflictNumber(a.id));
}

export function conflictHistory(registry: Registry, p: { limit: number; since?: string }): Conflict[] {
  const since = p.since !== undefined ? Date.parse(p.since) : -Infinity;
  return Object.values(registry.state.conflicts)
    .filter((c) => Date.parse(c.detectedAt) >= since || (c.resolvedAt !== null && Date.parse(c.resolvedAt) >= since))
    .sort((a, b) => (b.resolvedAt ?? b.detectedAt).localeCompare(a.resolvedAt ?? a.detectedAt))
    .slice(0, p.limit);
}

/** `creator`: who asks (conflict.resolve's caller): a reservation that `reserve` makes is theirs, within their quota. */
export function resolve(
  registry: Registry,
  allocator: Allocator,
  p: ResolveRequest,
  check?: Precondition,
  creator: Pick<Creator, 'owner' | 'quota'> = {},
): Promise<ResolveResult> {
  return registry.mutate(async (tx) => {
    const plan = planResolution(tx.state, p);
    const s = plan.service;
    if (s === null) {
      // Only `reserve` of an unowned reserved_in_use gets here: nothing moves.
      const out = applyResolution(tx.state, tx.index, plan, plan.target!, registry.now(), p.by);
      tx.apply(out);
      return out.result;
    }
    // Reserving a port that no reservation holds yet makes a record: counted like port.reserve's.
    if (plan.strategy === 'reserve' && !tx.state.reservations[portKey(plan.conflict?.protocol ?? s.protocol, plan.target!)])
      checkQuota(tx.index, creator);
    let to = plan.target ?? s.port;
    if (plan.needsPort === 'auto' && plan.target === undefined) {
      to = await allocator.pickPort({ protocol: s.protocol, host: s.host, name: s.name, avoid: [s.port] });
    } else if (plan.needsPort !== null) {
      const taken = takenBy(tx.state, tx.index, s.protocol, to, { self: [s.name] });
      // A drifted service's own process listening on the target is the point of the move.
      const ownListener = taken?.reason === 'listening' && plan.needsPort === 'auto';
      if (taken && !ownListener) throw portUnavailable(to, taken.reason, taken.heldBy);
      if (!ownListener && !taken) {
        const refused = await allocator.probe(to, s.protocol, s.host);
        if (refused) throw portUnavailable(to, `bind probe failed (${refused})`, {});
      }
    }
    const out = applyResolution(tx.state, tx.index, plan, to, registry.now(), p.by, creator.owner);
    tx.apply(out);
    // A swap can put the other service onto a shared port: say so now, not at the next scan.
    recheck(tx, registry.now());
    return out.result;
  }, check);
}
