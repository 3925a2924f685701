// Bounded history: closed conflicts are kept for conflict.history and
// statistics, but not forever, or a flapping listener would grow the state
// file without end.
import { conflictNumber, type Op, type State } from './state.ts';

/** How many closed conflicts are kept; the oldest-ended go first. */
export const CLOSED_CONFLICT_LIMIT = 2000;

export function pruneConflicts(state: State, keep = CLOSED_CONFLICT_LIMIT): Op[] {
  const closed = Object.values(state.conflicts).filter((c) => c.resolvedAt !== null);
  if (closed.length <= keep) return [];
  closed.sort((a, b) => a.resolvedAt!.localeCompare(b.resolvedAt!) || conflictNumber(a.id) - conflictNumber(b.id));
  return closed.slice(0, closed.length - keep).map((c) => ({ op: 'conflict', id: c.id, value: null }));
}
