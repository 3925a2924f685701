// When the daemon runs a service's restart action on its own, and what the
// action's environment says. Pure: the restarter (daemon/act/restarter.ts) asks.
import type { RestartReason } from '../../client/protocol.ts';
import type { AssignmentEvent, ServiceRecord } from './state.ts';

/** Why-codes of the port changes a service made itself (it registered on the new port): nothing to restart. */
const SELF_MOVES = new Set(['register', 'allocate', 'register:update']);

/** The why-code of the history line that put `service` on `port`, looking back from the newest line. */
export function moveWhy(history: readonly AssignmentEvent[], service: string, port: number): string | null {
  for (let i = history.length - 1; i >= 0; i--) {
    const h = history[i]!;
    if (h.service === service && h.port === port) return h.why;
  }
  return null;
}

/**
 * Whether a port change (the history line's `why`) restarts the service:
 * it has an action and asked for it (onPortChange "restart"), or the daemon
 * moved it on its own (automatic resolution: it was not listening, so only a
 * restart brings it up on its new port). A service that registered itself on
 * the new port is already there.
 */
export function restartsOnMove(s: Pick<ServiceRecord, 'restart' | 'onPortChange'>, why: string | null): boolean {
  if (!s.restart || why === null || SELF_MOVES.has(why)) return false;
  return s.onPortChange === 'restart' || why.endsWith(':daemon');
}

/** The variables portmand sets for a command; they win over the service's own `env`. */
export function restartEnv(
  s: Pick<ServiceRecord, 'name' | 'port'>,
  own: Record<string, string> | undefined,
  previous: number | undefined,
): Record<string, string> {
  return {
    ...own,
    PORT: String(s.port),
    PORTMAND_PORT: String(s.port),
    PORTMAND_SERVICE: s.name,
    ...(previous !== undefined && { PORTMAND_PREVIOUS_PORT: String(previous) }),
  };
}

/** The one-line error of a run that did not succeed, or undefined when it did. */
export function runError(
  o: { exitCode: number | null; signal: string | null; timedOut: boolean; spawnError?: string },
  timeoutSec: number,
): string | undefined {
  if (o.spawnError !== undefined) return `cannot start the command: ${o.spawnError}`;
  if (o.timedOut) return `timed out after ${timeoutSec} s; its process group was killed`;
  if (o.exitCode !== null && o.exitCode !== 0) return `exited with code ${o.exitCode}`;
  if (o.exitCode === null) return `ended by ${o.signal ?? 'a signal'}`;
  return undefined;
}

export type { RestartReason };
