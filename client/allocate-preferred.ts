// A preference list over port.allocate: each preferred port is asked for as a
// one-port range, so the daemon answers with exactly that port or refuses it
// (held, reserved, listened on), atomically; then any port, minus the
// excluded ones. The daemon's guarantees hold for every step.
import net from 'node:net';
import { PortmandError } from './errors.ts';
import { excludeParam } from './port-preferences.ts';
import { ErrorCode, type AllocateParams, type AllocateResult } from './protocol.ts';

export type Allocate = (params: AllocateParams) => Promise<AllocateResult>;

/** Refusals that mean "not this port, try the next one". */
const TAKEN = new Set<number>([ErrorCode.RangeExhausted, ErrorCode.PortUnavailable]);

/**
 * The first of `preferred` the daemon grants (skipping `exclude`), else the
 * port it chooses under `base` (its range, its own `preferred`), never one of
 * `exclude`. A service that already holds a port keeps it: the first
 * preference it does not hold ends the list, and the daemon answers with the
 * held port.
 */
export async function allocatePreferred(
  allocate: Allocate,
  base: AllocateParams,
  preferred: Iterable<number>,
  exclude: ReadonlySet<number>,
): Promise<number> {
  for (const port of preferred) {
    if (exclude.has(port)) continue;
    // A system daemon runs as root: it could grant a port below 1024 that this process cannot bind.
    if (port < 1024 && !(await canBindPrivileged(port, base.host))) continue;
    try {
      const { range: _range, preferred: _preferred, ...rest } = base;
      return (await allocate({ ...rest, range: `${port}-${port}` })).port;
    } catch (err) {
      if (!(err instanceof PortmandError)) throw err;
      if (TAKEN.has(err.code)) continue;
      // The service holds another port already; what it holds is its answer.
      if (err.code === ErrorCode.InvalidParams && err.data?.field === 'range') break;
      throw err;
    }
  }
  const avoid = excludeParam(exclude);
  return (await allocate({ ...base, ...(avoid && { exclude: avoid }) })).port;
}

/** Whether this process may bind a port below 1024 (root, or a lowered ip_unprivileged_port_start). */
async function canBindPrivileged(port: number, host: string | undefined): Promise<boolean> {
  if (process.getuid?.() === 0) return true;
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err.code !== 'EACCES'));
    server.listen({ port, host: host ?? '0.0.0.0', exclusive: true }, () => server.close(() => resolve(true)));
  });
}
