// port.history: the assignment history, filtered, newest first.
import type { PortHistoryEntry } from '../../client/protocol.ts';
import { portHistory, type HistoryQuery } from '../core/history.ts';
import type { Registry } from '../registry.ts';

export function listHistory(registry: Registry, q: HistoryQuery, fallbackBy: string): PortHistoryEntry[] {
  return portHistory(registry.state.history, q, fallbackBy);
}
