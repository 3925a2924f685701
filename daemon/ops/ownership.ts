// Who owns what: replacing a service's token, and giving records made before
// owners were recorded to the daemon's user.
import type { Owner } from '../../client/protocol.ts';
import { notFound } from '../core/errors.ts';
import { iso, type Op } from '../core/state.ts';
import type { Precondition, Registry } from '../registry.ts';

/** token.rotate: the service gets a new token; the old one stops working at once. */
export function rotateToken(registry: Registry, name: string, tokenHash: string, check?: Precondition): Promise<void> {
  return registry.mutate((tx) => {
    const s = tx.state.services[name];
    if (!s) throw notFound('service', name);
    tx.apply({ ops: [{ op: 'service', name, value: { ...s, tokenHash, updatedAt: iso(registry.now()) } }], events: [] });
  }, check);
}

/** Existing state migrates: services and reservations without an owner belong to the daemon's user. Once; later starts find none. */
export function adoptOwnerless(registry: Registry, owner: Owner): Promise<number> {
  return registry.mutate((tx) => {
    const ops: Op[] = [];
    for (const [name, s] of Object.entries(tx.state.services)) if (!s.owner) ops.push({ op: 'service', name, value: { ...s, owner } });
    for (const [key, r] of Object.entries(tx.state.reservations))
      if (!r.owner) ops.push({ op: 'reservation', key, value: { ...r, owner } });
    tx.apply({ ops, events: [] });
    return ops.length;
  });
}
