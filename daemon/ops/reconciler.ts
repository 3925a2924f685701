// The reconciler: takes in each scan and runs the full reconcile over it,
// keeping what one round hands the next (the hold-off counters) and what
// daemon.status says of the last scan. The listeners themselves live in the
// port index only, where allocation needs them. Between scans a mutation
// checks only the ports it touched (recheck), never the whole registry.
import type { PidStarts } from '../core/lifecycle.ts';
import type { Scan } from '../core/observation.ts';
import { reconcile } from '../core/reconcile.ts';
import { checkPorts } from '../core/recheck.ts';
import { listenerChanges } from '../core/listener-events.ts';
import type { Observation } from '../core/observation.ts';
import { pruneConflicts } from '../core/retention.ts';
import type { Registry, Tx } from '../registry.ts';

/** What is kept of the last scan: when, how long, how many listeners. */
export interface ScanSummary {
  at: number;
  durationMs: number;
  listeners: number;
}

export interface ReconcilerDeps {
  registry: Registry;
  /** Whether a process is running; asked once per distinct owner pid per scan. */
  pidAlive: (pid: number) => boolean;
  /** Start marks of running pids, to tell a reused pid from the owner that registered. */
  processStarts: (pids: readonly number[]) => Promise<PidStarts>;
}

export class Reconciler {
  /** Leak hold-off counters carried from one round to the next (not durable, by design). */
  private holdoff: Record<string, number> = {};
  private last: ScanSummary | null = null;
  /** The last scan's listeners, to tell which appeared or went (null before the first scan: it announces nothing). */
  private seen: readonly Observation[] | null = null;

  constructor(private readonly deps: ReconcilerDeps) {}

  /** The last scan taken in, or null before the first. */
  get lastScan(): ScanSummary | null {
    return this.last;
  }

  /** Reconciles the registry with a completed scan. */
  async ingest(scan: Scan): Promise<void> {
    const { registry, pidAlive, processStarts } = this.deps;
    // Read before the lock (on macOS it runs `ps`): a pid that registers meanwhile is simply not checked this round.
    const marked = new Set<number>();
    for (const name of registry.index.owned()) {
      const s = registry.state.services[name];
      if (s?.pid !== undefined && s.pidStart !== undefined) marked.add(s.pid);
    }
    const pidStarts = await processStarts([...marked]);
    return registry.mutate((tx) => {
      tx.observe(scan.listeners);
      const pids = new Set<number>();
      for (const name of tx.index.owned()) {
        const pid = tx.state.services[name]?.pid;
        if (pid !== undefined) pids.add(pid);
      }
      const deadPids = [...pids].filter((pid) => !pidAlive(pid));
      const r = reconcile({
        state: tx.state,
        ports: tx.index,
        listeners: scan.listeners,
        now: registry.now(),
        holdoff: this.holdoff,
        deadPids,
        pidStarts,
      });
      this.holdoff = r.holdoff;
      this.last = { at: scan.at, durationMs: scan.durationMs, listeners: scan.listeners.length };
      tx.apply(r);
      tx.apply({ ops: pruneConflicts(tx.state), events: listenerChanges(this.seen, scan.listeners) });
      this.seen = scan.listeners;
    });
  }
}

/** Opens, updates or closes the duplicate assignments on the ports this transaction touched, without waiting for a scan. */
export function recheck(tx: Tx, now: number): void {
  tx.apply(checkPorts({ state: tx.state, lookup: tx.index, ports: tx.touched(), now }));
}
