// The errors a client sees: the daemon answered with an error, or it could
// not be reached at all. Callers (and the CLI's exit codes) tell them apart
// with instanceof.

/** The daemon answered a request with a JSON-RPC error (see ErrorCode). */
export class PortmandError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data: Record<string, unknown> | undefined,
    readonly method?: string,
  ) {
    super(message);
    this.name = 'PortmandError';
  }
}

/** The connection failed or dropped before an answer came. Retrying may help. */
export class ConnectionError extends Error {
  constructor(
    message: string,
    readonly socketPath: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ConnectionError';
  }
}

/** Nothing is listening on the socket: the daemon is not running. */
export class DaemonUnavailableError extends ConnectionError {
  constructor(socketPath: string, options?: { cause?: unknown }) {
    super(
      `the portmand daemon is not running: nothing listens on ${socketPath}. ` +
        'Start it with `portmand daemon` (or `npm start` in its project directory), ' +
        'or enable its systemd/launchd unit.',
      socketPath,
      options,
    );
    this.name = 'DaemonUnavailableError';
  }
}

/**
 * The daemon did not accept the connection, or did not answer a call, in
 * time: it may be hung or overloaded. A ConnectionError, so the CLI exits 3.
 */
export class DaemonTimeoutError extends ConnectionError {
  constructor(
    socketPath: string,
    /** The method that got no answer, or "connect". */
    readonly method: string,
    readonly timeoutMs: number,
  ) {
    const what = method === 'connect' ? 'accept the connection' : `answer ${method}`;
    super(
      `the portmand daemon at ${socketPath} did not ${what} within ${formatSeconds(timeoutMs)}: it may be hung or overloaded. ` +
        'Look at its log, restart it (e.g. `systemctl --user restart portmand`, or stop and rerun `portmand daemon`), ' +
        'or allow it more time (--timeout SECONDS in the CLI, timeoutMs in the client library).',
      socketPath,
    );
    this.name = 'DaemonTimeoutError';
  }
}

function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(3).replace(/0+$/, '')} s`;
}

/** Maps a failed connect to the error a user can act on. */
export function connectError(err: NodeJS.ErrnoException, socketPath: string): ConnectionError {
  if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') return new DaemonUnavailableError(socketPath, { cause: err });
  const why = err.code === 'EACCES' ? 'permission denied' : err.message;
  return new ConnectionError(`cannot connect to portmand at ${socketPath}: ${why}`, socketPath, { cause: err });
}
