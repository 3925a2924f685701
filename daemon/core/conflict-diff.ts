// From the conflicts detection wants to the ops that get there: keep what is
// still wanted, close what is not, open what is new. Both the full reconcile
// of a scan and the check after a mutation end here, so they cannot differ
// in how a conflict opens, changes or closes.
import type { Conflict } from '../../client/protocol.ts';
import { conflictKey, SEVERITY, type Wanted } from './detect.ts';
import { conflictNumber, iso, type Effects, type State } from './state.ts';

export interface ConflictDiff extends Effects {
  opened: Conflict[];
  closed: Conflict[];
}

/**
 * `judged` are the open conflicts this round has the evidence to judge.
 * Those still wanted are kept (refreshing who is involved in place, without
 * an event); the rest are closed; wanted ones not yet open are opened, with
 * ids taken from state.nextConflictId in the order of `want`.
 */
export function diffConflicts(state: State, want: readonly Wanted[], judged: readonly Conflict[], now: number, result: ConflictDiff): void {
  const wanted = new Map(want.map((w) => [w.key, w]));
  const kept = new Set<string>();
  const open = [...judged].sort((a, b) => conflictNumber(a.id) - conflictNumber(b.id));
  for (const c of open) {
    const key = conflictKey(c);
    const w = wanted.get(key);
    if (!w || kept.has(key)) {
      // An acknowledged conflict ends the way the operator meant it to: resolved.
      const closed: Conflict = { ...c, resolvedAt: iso(now), outcome: c.acknowledged && c.resolution ? 'resolved' : 'vanished' };
      result.ops.push({ op: 'conflict', id: c.id, value: closed });
      result.events.push({ type: 'conflict_resolved', data: closed });
      result.closed.push(closed);
      continue;
    }
    kept.add(key);
    if (!sameParties(c, w)) {
      const { listener: _old, ...rest } = c;
      result.ops.push({ op: 'conflict', id: c.id, value: { ...rest, services: w.services, ...(w.listener && { listener: w.listener }) } });
    }
  }
  let next = state.nextConflictId;
  for (const w of want) {
    if (kept.has(w.key)) continue;
    kept.add(w.key);
    const { key: _key, ...what } = w;
    const c: Conflict = { id: `c${next++}`, ...what, severity: SEVERITY[w.type], detectedAt: iso(now), resolvedAt: null, resolution: null };
    result.ops.push({ op: 'conflict', id: c.id, value: c });
    result.events.push({ type: 'conflict_detected', data: c });
    result.opened.push(c);
  }
  if (next !== state.nextConflictId) result.ops.push({ op: 'nextConflictId', value: next });
}

function sameParties(c: Conflict, w: Wanted): boolean {
  return sameNames(c.services, w.services) && JSON.stringify(c.listener) === JSON.stringify(w.listener);
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
