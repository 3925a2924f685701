// The persisted health results of each service: its recent checks (bounded)
// and the consecutive-failure and -success counts its status is judged by,
// so a daemon restart neither forgets the history nor the streak in progress.
import type { ServiceStatus } from '../../client/protocol.ts';

/** How many results are kept per service (health.get's `limit` at most). */
export const HEALTH_LOG_LIMIT = 50;

/** One check: whether it passed, and the service's status after it. */
export interface HealthEntry {
  status: ServiceStatus;
  ok: boolean;
  latencyMs: number | null;
  checkedAt: string;
  error?: string;
}

export interface Streak {
  failures: number;
  successes: number;
}

export interface HealthLog extends Streak {
  /** Oldest first. */
  entries: HealthEntry[];
}

export type HealthTable = Record<string, HealthLog>;

/** The value of a `health` op: one more check, and the streak after it; null forgets the service. */
export type HealthOpValue = ({ entry: HealthEntry } & Streak) | null;

/** The table in a state written before it existed is created on first use, without a prototype like the other keyed tables. */
export function healthTable(holder: { health?: HealthTable }): HealthTable {
  return (holder.health ??= Object.create(null) as HealthTable);
}

export function applyHealth(table: HealthTable, name: string, value: HealthOpValue): void {
  if (value === null) {
    delete table[name];
    return;
  }
  const log = table[name] ?? { entries: [], failures: 0, successes: 0 };
  log.entries.push(value.entry);
  if (log.entries.length > HEALTH_LOG_LIMIT) log.entries.splice(0, log.entries.length - HEALTH_LOG_LIMIT);
  log.failures = value.failures;
  log.successes = value.successes;
  table[name] = log;
}
