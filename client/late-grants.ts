// A port.allocate whose caller gave up (its timeout fired) may still be
// granted when the daemon gets to it: the lease would then be held, by a
// caller that never learnt its port, until the process exits. The client
// releases such a grant when its answer comes, unless someone may be using
// it: the answer carries no token (the service existed before: the call
// created nothing), or this process asked for the same service again since,
// or had asked for it already and not been answered when this call began
// (the daemon may run calls of two connections in either order: that call
// may have been answered with the very port).
import type { LateAnswer } from './connection.ts';
import type { AllocateParams } from './protocol.ts';

/** Allocations per service in this process, counted only while one is in flight or awaits its late answer. */
const asked = new Map<string, { starts: number; open: number }>();

export interface Ticket {
  readonly key: string;
  /** `starts` just after this call began: more later means it was asked for again. */
  readonly at: number;
  /** Another call for the service was in flight (or awaited its late answer) when this one began. */
  readonly overlapped: boolean;
  ended: boolean;
}

/** Counts a port.allocate for `service` starting. */
export function beginAllocation(socketPath: string, service: string): Ticket {
  const key = `${socketPath}\0${service}`;
  const entry = asked.get(key) ?? { starts: 0, open: 0 };
  entry.starts += 1;
  entry.open += 1;
  asked.set(key, entry);
  return { key, at: entry.starts, overlapped: entry.open > 1, ended: false };
}

/** The call is over: answered, refused, or its late answer handled. Idempotent. */
export function endAllocation(ticket: Ticket): void {
  if (ticket.ended) return;
  ticket.ended = true;
  const entry = asked.get(ticket.key);
  if (entry && --entry.open === 0) asked.delete(ticket.key);
}

/** What the late answer of a timed-out port.allocate does: release what it created, then end its ticket. */
export function releaseLateGrant(ticket: Ticket, params: AllocateParams): LateAnswer {
  return async (answer, send) => {
    try {
      const r = (answer?.result ?? null) as { port?: unknown; token?: unknown } | null;
      if (!r || typeof r.port !== 'number' || typeof r.token !== 'string') return;
      if (ticket.overlapped || (asked.get(ticket.key)?.starts ?? ticket.at) !== ticket.at) return;
      await send('port.release', { port: r.port, protocol: params.protocol ?? 'tcp', service: params.service, token: r.token });
    } finally {
      endAllocation(ticket);
    }
  };
}
