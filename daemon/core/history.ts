// port.history: the assignment history as the contract shows it. Lines
// written before the `action` field existed get theirs from what they record.
import type { HistoryAction, PortHistoryEntry } from '../../client/protocol.ts';
import type { AssignmentEvent } from './state.ts';

/** Reasons that are the daemon's own doing, not a caller's. */
const AUTOMATIC = new Set(['lease-expired', 'reclaimed', 'resolve:auto:daemon', 'expired']);

export function historyAction(h: AssignmentEvent): HistoryAction {
  if (h.action) return h.action;
  if (h.port === null) return h.why === 'lease-expired' ? 'lease_expired' : 'released';
  return h.previous === null ? 'assigned' : 'moved';
}

export interface HistoryQuery {
  service?: string;
  port?: number;
  /** ms; lines at or after it. */
  since?: number;
  limit: number;
}

/**
 * Newest first, at most `limit`. `fallbackBy` names the caller for lines
 * recorded without one (every caller of a per-user daemon is its user).
 */
export function portHistory(lines: readonly AssignmentEvent[], q: HistoryQuery, fallbackBy: string): PortHistoryEntry[] {
  const out: PortHistoryEntry[] = [];
  for (let i = lines.length - 1; i >= 0 && out.length < q.limit; i--) {
    const h = lines[i]!;
    if (q.since !== undefined && Date.parse(h.at) < q.since) continue;
    if (q.service !== undefined && h.service !== q.service) continue;
    if (q.port !== undefined && h.port !== q.port && h.previous !== q.port) continue;
    out.push(toEntry(h, fallbackBy));
  }
  return out;
}

function toEntry(h: AssignmentEvent, fallbackBy: string): PortHistoryEntry {
  const action = historyAction(h);
  // A release or an unreservation has only the port it gave up; the contract calls it `port`.
  const port = h.port ?? h.previous ?? 0;
  const previous = h.port !== null && h.previous !== null ? h.previous : undefined;
  return {
    time: h.at,
    action,
    ...(h.service !== '' && { service: h.service }),
    port,
    ...(previous !== undefined && { previous }),
    by: h.by ?? (AUTOMATIC.has(h.why) ? 'daemon' : fallbackBy),
  };
}
