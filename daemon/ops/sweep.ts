// Ends leases and reservations whose ttl has run out between scans, so a port
// comes free within about a second of its expiry. Reconcile decides; this
// only looks cheaply for something due before asking it.
import { expired } from '../core/lifecycle.ts';
import type { Registry } from '../registry.ts';
import { reconcileRegistry } from './services.ts';

export async function sweepExpired(registry: Registry): Promise<void> {
  const now = registry.now();
  const due =
    Object.values(registry.state.services).some((s) => expired(s, now)) ||
    Object.values(registry.state.reservations).some((r) => expired(r, now));
  if (due) await registry.mutate((tx) => reconcileRegistry(registry, tx));
}
