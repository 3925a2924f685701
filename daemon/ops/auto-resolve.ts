// Carries out the automatic resolution policy (core/auto-resolve.ts): moves
// through conflict.resolve's own path with `by: "daemon"`, releases through
// the same effects as any release, and notes on a conflict why it was left
// open. Each step is its own registry transaction and re-checks the state,
// since anything may have changed since the plan.
import type { AutoResolvePlan } from '../../client/protocol.ts';
import type { Observation } from '../core/observation.ts';
import { planAutoResolve, type ConflictPolicy } from '../core/auto-resolve.ts';
import { unregisterEffects } from '../core/service-effects.ts';
import type { Registry } from '../registry.ts';
import type { Allocator } from './allocator.ts';
import { resolve } from './conflicts.ts';
import { recheck } from './reconciler.ts';

export interface AutoResolveDeps {
  policy: ConflictPolicy;
  /** Whether a pid runs (host/process.ts). */
  pidAlive: (pid: number) => boolean;
  /** Whether a process is another or one of its descendants (host/ancestry.ts). */
  descendsFrom: (pid: number, ancestor: number) => boolean;
  /** The listeners of the last scan, or null before the first. */
  listeners: () => readonly Observation[] | null;
  allocator: Allocator;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

/** What the policy would do now (conflict.plan). */
export function planNow(
  registry: Registry,
  deps: Pick<AutoResolveDeps, 'policy' | 'pidAlive' | 'descendsFrom' | 'listeners'>,
): AutoResolvePlan {
  const { state } = registry;
  const pids = new Set<number>();
  const ownChildren = new Set<string>();
  for (const c of Object.values(state.conflicts)) {
    if (c.resolvedAt !== null) continue;
    const owner = state.services[c.services[0] ?? '']?.pid;
    if (c.type === 'foreign_listener' && c.listener?.pid !== undefined && owner !== undefined && deps.descendsFrom(c.listener.pid, owner))
      ownChildren.add(c.id);
    for (const n of c.services) {
      const pid = state.services[n]?.pid;
      if (pid !== undefined && state.services[n]!.origin === 'allocate') pids.add(pid);
    }
  }
  const deadPids = new Set([...pids].filter((pid) => !deps.pidAlive(pid)));
  return planAutoResolve({ state, policy: deps.policy, listeners: deps.listeners(), deadPids, ownChildren, now: registry.now() });
}

/** Runs one pass of the policy; a step that fails is logged and the others still run. */
export async function autoResolve(registry: Registry, deps: AutoResolveDeps): Promise<void> {
  for (const step of planNow(registry, deps).steps) {
    const service = step.service;
    if (service === undefined || step.action === 'none') continue;
    try {
      if (step.action === 'move') {
        const r = await resolve(registry, deps.allocator, { conflictId: step.conflict, service, strategy: 'auto', by: 'daemon' });
        deps.log.info({ conflict: step.conflict, service, from: r.from, to: r.to }, 'conflict resolved automatically');
      } else if (step.action === 'release') {
        await registry.mutate((tx) => {
          const s = tx.state.services[service];
          if (!s || s.origin !== 'allocate') return;
          tx.apply(unregisterEffects(tx.state, service, registry.now(), 'reclaimed'));
          recheck(tx, registry.now());
        });
        deps.log.info({ conflict: step.conflict, service }, 'lease of a dead owner released automatically');
      } else {
        const noted = await registry.mutate((tx) => {
          const c = tx.state.conflicts[step.conflict];
          if (!c || c.resolvedAt !== null || c.note === step.note) return false;
          tx.apply({ ops: [{ op: 'conflict', id: c.id, value: { ...c, note: step.note } }], events: [] });
          return true;
        });
        if (noted) deps.log.info({ conflict: step.conflict, service, note: step.note }, 'conflict left open by the back-off');
      }
    } catch (err) {
      deps.log.warn({ err, conflict: step.conflict, service, action: step.action }, 'automatic resolution failed');
    }
  }
}
