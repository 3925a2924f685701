// portmand/get-port: get-port 7's API (getPort, portNumbers,
// clearLockedPorts) with the daemon deciding. get-port checks ports in its own
// process, so two processes asking at once can be handed the same port; here
// every call is a lease in the daemon, owned by the calling process (its pid
// and start time), so no two callers anywhere get the same port. A lease
// ends when its process exits (the daemon sees the pid gone) or at
// clearLockedPorts().
import { randomBytes } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import net, { type ListenOptions } from 'node:net';
import { allocatePreferred } from './allocate-preferred.ts';
import { PortmandClient } from './client.ts';
import { ConnectionError, DaemonUnavailableError } from './errors.ts';
import { localPort, locallyLocked } from './local-port.ts';
import { currentSocketPath } from './paths.ts';
import { excludedPorts, preferredPorts, Replayable } from './port-preferences.ts';

export { portNumbers } from './port-preferences.ts';

export type Options = {
  /** A preferred port, or an iterable of them tried in order; when none is free, any port. */
  readonly port?: number | Iterable<number>;
  /** Ports never to return. */
  readonly exclude?: Iterable<number>;
  /** Check availability on this address only (default: every address of the host). */
  readonly host?: string;
  /**
   * get-port's "keep it for the life of the process": every lease here is
   * already kept until the process exits or calls clearLockedPorts().
   */
  readonly reserve?: boolean;
  /**
   * 'local': when no daemon answers, check ports in this process as get-port
   * does, without portmand's guarantee. Without it, no daemon is an error: a
   * silent fallback would bring back the race this module exists to end.
   */
  readonly fallback?: 'local';
} & Omit<ListenOptions, 'port'>;

/** This process's leases, released by clearLockedPorts() through the client (the daemon) that granted each. */
const held: Array<{ service: string; port: number; pm: PortmandClient }> = [];
/** A release in progress: the next getPort() waits for it, so a port just cleared can be had again. */
let clearing: Promise<unknown> = Promise.resolve();
let shared: PortmandClient | null = null;
/** Lease names: unique per process and per copy of this module (worker threads share the pid). */
const prefix = `get-port.${process.pid}.${randomBytes(3).toString('hex')}`;
let count = 0;

/** A free TCP port, leased from the daemon for this process. */
export default async function getPort(options: Options = {}): Promise<number> {
  const preferred = new Replayable(preferredPorts(options.port));
  const exclude = excludedPorts(options.exclude);
  const { fallback } = options;
  if (fallback !== undefined && fallback !== 'local')
    throw new TypeError(`the fallback option is 'local' or absent, not ${String(fallback)}`);
  const host = options.host ? await address(options.host) : undefined;
  await clearing;
  const service = `${prefix}.${++count}`;
  const pm = client();
  try {
    const port = await allocatePreferred((p) => pm.port.allocate(p), { service, ...(host && { host }) }, preferred, exclude);
    held.push({ service, port, pm });
    return port;
  } catch (err) {
    if (!(err instanceof ConnectionError)) throw err;
    if (fallback === 'local') return localPort(preferred, exclude, host);
    if (err instanceof DaemonUnavailableError) {
      err.message +=
        " portmand/get-port leases ports from the daemon so that concurrent callers never get the same one; to check ports in this process instead, without that guarantee, pass { fallback: 'local' }.";
    }
    throw err;
  }
}

/** Releases this process's ports (the daemon's leases, and the local fallback's), so they can be had again. */
export function clearLockedPorts(): void {
  locallyLocked.clear();
  const leases = held.splice(0);
  if (leases.length === 0) return;
  // get-port's clearLockedPorts() returns nothing; getPort() waits for this before it asks again.
  clearing = clearing.then(() => Promise.allSettled(leases.map((l) => l.pm.port.release({ port: l.port, service: l.service }))));
}

/**
 * One connection for the process, found as every client finds the daemon; a
 * daemon that appears elsewhere later (a system socket) is found at the next
 * call. The one before is not closed: calls may be in flight on it, and its
 * leases are released through it. An idle connection does not keep the
 * process alive, and the daemon ends it when it stays idle.
 */
function client(): PortmandClient {
  const socketPath = currentSocketPath();
  if (shared?.socketPath !== socketPath) shared = new PortmandClient({ socketPath });
  return shared;
}

/** The daemon takes addresses; get-port also takes names ("localhost"), which bind to their first address. */
async function address(host: string): Promise<string> {
  if (net.isIP(host) !== 0) return host;
  return (await lookup(host)).address;
}
