// Ends leases and reservations whose ttl has run out between scans, so a port
// comes free within about a second of its expiry. Reconcile decides; this
// only looks cheaply for something due before asking it.
import { expired } from '../core/lifecycle.ts';
import { expire } from '../core/recheck.ts';
import type { Registry } from '../registry.ts';
import { recheck } from './reconciler.ts';

export async function sweepExpired(registry: Registry): Promise<void> {
  const now = registry.now();
  const { state, index } = registry;
  let due = Object.values(state.reservations).some((r) => expired(r, now));
  for (const name of index.leased()) if (!due && state.services[name] && expired(state.services[name]!, now)) due = true;
  if (!due) return;
  await registry.mutate((tx) => {
    const at = registry.now();
    tx.apply(expire(tx.state, at, tx.index.leased()));
    recheck(tx, at);
  });
}
