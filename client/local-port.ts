// The local check behind `fallback: 'local'`: what get-port does on its own,
// a bind probe in this process. It knows nothing of other processes, so two
// of them can still be handed the same port; that is why it runs only when
// the caller asked for it.
import net from 'node:net';

/** Ports this process handed out locally, kept until clearLockedPorts(). */
export const locallyLocked = new Set<number>();

/** A free port wanted, e.g. after a port number comes back that is excluded or locked. */
const MAX_ANY_TRIES = 64;

/**
 * The first of `preferred` that can be bound now (on `host`, or on every
 * address when none is given) and is neither excluded nor handed out before;
 * else a port the OS chooses that is neither.
 */
export async function localPort(preferred: Iterable<number>, exclude: ReadonlySet<number>, host: string | undefined): Promise<number> {
  for (const port of preferred) {
    if (exclude.has(port) || locallyLocked.has(port)) continue;
    if ((await listenOnce(port, host)) !== null) return lock(port);
  }
  for (let i = 0; i < MAX_ANY_TRIES; i++) {
    const port = await listenOnce(0, host);
    if (port !== null && !exclude.has(port) && !locallyLocked.has(port)) return lock(port);
  }
  throw new Error('no free port found by the local check');
}

function lock(port: number): number {
  locallyLocked.add(port);
  return port;
}

/**
 * Listens on the port and closes at once: the bound port, or null when it is
 * taken or not permitted. Without a host the dual-stack "::" stands for every
 * address (Linux and macOS refuse it when any address holds the port); a host
 * without IPv6 falls back to 0.0.0.0.
 */
async function listenOnce(port: number, host: string | undefined): Promise<number | null> {
  if (host !== undefined) return tryListen(port, host);
  try {
    return await tryListen(port, '::');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EAFNOSUPPORT' && (err as NodeJS.ErrnoException).code !== 'EADDRNOTAVAIL') throw err;
    return tryListen(port, '0.0.0.0');
  }
}

function tryListen(port: number, host: string): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE' || err.code === 'EACCES') resolve(null);
      else reject(err);
    });
    server.listen({ port, host, ipv6Only: false, exclusive: true }, () => {
      const bound = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(bound));
    });
  });
}
