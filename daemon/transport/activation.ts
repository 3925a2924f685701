// systemd socket activation (sd_listen_fds(3)): the manager binds the socket,
// so clients can connect (and queue in the kernel) before the daemon is up,
// and passes it as fd 3 with LISTEN_FDS/LISTEN_PID. launchd's own activation
// API is not used: the LaunchDaemon/Agent let the daemon bind its path.
import type net from 'node:net';

/** The first fd systemd passes (SD_LISTEN_FDS_START). */
export const LISTEN_FDS_START = 3;

type Env = Readonly<Record<string, string | undefined>>;

/**
 * The inherited listening socket's fd, or null when none was passed to this
 * process. LISTEN_PID must name us: the variables leak to children otherwise.
 * portmand listens on one socket, so a unit passing more is a mistake we name.
 */
export function inheritedSocketFd(env: Env, pid: number): number | null {
  if (env.LISTEN_PID === undefined || env.LISTEN_PID !== String(pid)) return null;
  const count = Number(env.LISTEN_FDS);
  if (!Number.isInteger(count) || count < 1) return null;
  if (count > 1)
    throw new Error(`socket activation passed ${count} sockets (LISTEN_FDS); portmand.socket must have exactly one ListenStream=`);
  return LISTEN_FDS_START;
}

/** Starts accepting on an inherited, already bound and listening socket. */
export function listenOnFd(server: net.Server, fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ fd }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
