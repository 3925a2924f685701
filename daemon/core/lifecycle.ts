// The service-side half of a reconcile round: leases that ran out, owners that
// died (with a hold-off, so one missed observation never frees a port), and
// services that adopt the process found listening on their port.
import type { ListenerView } from './detect.ts';
import type { Observation } from './observation.ts';
import { hasOwner, ownership } from './owner.ts';
import type { ServiceRecord } from './state.ts';

export const DEFAULT_HOLDOFF_ROUNDS = 3;

/** True when a lease (port.allocate ttlSec) or a reservation (port.reserve ttlSec) has run out at `now`. */
export function expired(x: { expiresAt?: string }, now: number): boolean {
  return x.expiresAt !== undefined && Date.parse(x.expiresAt) <= now;
}

/** Hold-off counters are keyed by service and pid, so a re-registration with a new pid starts afresh. */
export function holdoffKey(s: ServiceRecord): string {
  return `${s.name}:${s.pid}`;
}

/** Start marks of running pids, as the shell read them this round; a pid left out was not read. */
export type PidStarts = ReadonlyMap<number, string>;

/**
 * True when the process running under a service's pid is not the one that
 * registered: it started at another time, so the pid was reused and the owner
 * is dead. A record without a mark (written by an older portmand), or a pid
 * whose mark was not read, trusts the bare pid as before.
 */
export function pidReused(s: Pick<ServiceRecord, 'pid' | 'pidStart'>, starts: PidStarts | undefined): boolean {
  if (s.pid === undefined || s.pidStart === undefined) return false;
  const now = starts?.get(s.pid);
  return now !== undefined && now !== s.pidStart;
}

export interface HoldoffRound {
  holdoff: Record<string, number>;
  /** Services whose owner has now been dead for the whole hold-off. */
  dead: ServiceRecord[];
}

/**
 * Counts consecutive rounds in which each service's owner pid was reported
 * dead, or found reused (see pidReused). A pid seen alive or listening drops
 * its counter. Without `deadPids` nobody looked, so counters are carried over
 * unchanged and nobody is dead.
 */
export function countHoldoff(
  services: readonly ServiceRecord[],
  previous: Readonly<Record<string, number>>,
  deadPids: ReadonlySet<number> | undefined,
  listeners: ListenerView | null,
  rounds: number,
  starts?: PidStarts,
): HoldoffRound {
  const holdoff: Record<string, number> = {};
  const dead: ServiceRecord[] = [];
  for (const s of services) {
    // An adopted owner that dies is replaced by the next listener, never mourned.
    if (s.pid === undefined || s.adopted) continue;
    const key = holdoffKey(s);
    const before = previous[key];
    if (deadPids === undefined) {
      if (before !== undefined) holdoff[key] = before;
      continue;
    }
    const alive = !pidReused(s, starts) && (!deadPids.has(s.pid) || (listeners !== null && listeners.of(s.pid).length > 0));
    if (alive) continue;
    // Capped, so a service that stays dead yields the same output every round.
    const count = Math.min((before ?? 0) + 1, rounds);
    holdoff[key] = count;
    if (count >= rounds) dead.push(s);
  }
  return { holdoff, dead };
}

/**
 * The listener a service with no owner identity takes as its own: the first
 * one on its port that says who it is and that no other service on that port
 * owns. `neighbours` are the services on the same port; a service on another
 * port owning the same process does not count, since one process may serve
 * several registered ports.
 */
export function adoptable(
  s: ServiceRecord,
  neighbours: readonly ServiceRecord[],
  listeners: readonly Observation[],
): Observation | undefined {
  if (hasOwner(s)) return undefined;
  return listeners.find(
    (l) =>
      l.protocol === s.protocol &&
      l.port === s.port &&
      (l.pid !== undefined || l.process !== undefined) &&
      !neighbours.some((n) => n.name !== s.name && n.protocol === s.protocol && n.port === s.port && ownership(n, l) === 'owner'),
  );
}
