// Who owns a port: does an observed listener belong to the process that a
// service was registered for? Reconcile and resolve both ask this.
import type { Listener } from '../../client/protocol.ts';
import type { Observation } from './observation.ts';
import type { ServiceRecord } from './state.ts';

/**
 * 'owner' and 'foreign' are proven; 'unknown' means the observation cannot
 * tell (e.g. another user's socket seen without root: no pid, no name), and
 * an unknown is never evidence for a conflict.
 */
export type Ownership = 'owner' | 'foreign' | 'unknown';

/** Linux truncates a process name (comm) to 15 bytes; a longer expected name still matches it. */
const COMM_LENGTH = 15;

/** Compares process names the way the OS reports them: basename only, comm-truncated. */
export function sameProcessName(expected: string, observed: string): boolean {
  const a = basename(expected);
  const b = basename(observed);
  if (a === b) return true;
  return b.length === COMM_LENGTH && a.startsWith(b);
}

function basename(name: string): string {
  return name.slice(name.lastIndexOf('/') + 1);
}

/** Whether the service records any owner identity at all (pid or process name). */
export function hasOwner(service: ServiceRecord): boolean {
  return service.pid !== undefined || service.process !== undefined;
}

/**
 * Matches by pid when both are known, else by process name. A service with no
 * identity owns nothing (reconcile adopts a listener for it before asking).
 */
export function ownership(service: ServiceRecord, l: Observation): Ownership {
  if (l.pid === undefined && l.process === undefined) return 'unknown';
  if (service.pid !== undefined && l.pid !== undefined) return service.pid === l.pid ? 'owner' : 'foreign';
  if (service.process !== undefined && l.process !== undefined) {
    return sameProcessName(service.process, l.process) ? 'owner' : 'foreign';
  }
  if (!hasOwner(service)) return 'foreign';
  return 'unknown';
}

/** The `address` form of a Listener: "0.0.0.0:8080", "[::1]:8080". */
export function listenerAddress(l: Observation): string {
  return l.address.includes(':') ? `[${l.address}]:${l.port}` : `${l.address}:${l.port}`;
}

/** The Listener a conflict reports for an observation. */
export function toListener(l: Observation): Listener {
  return {
    ...(l.pid !== undefined && { pid: l.pid }),
    ...(l.process !== undefined && { process: l.process }),
    address: listenerAddress(l),
  };
}

/** The port in a Listener address, whichever family it is. */
export function portOfAddress(address: string): number | null {
  const port = Number(address.slice(address.lastIndexOf(':') + 1));
  return Number.isInteger(port) && port > 0 ? port : null;
}
