// The Unix socket server: the socket file (that nobody else can open, and
// that a dead daemon's leftover never blocks), and one Connection per client.
// Framing and flow control live in connection.ts; what a line means is
// handleLine's business.
import { chmod, chown, lstat, mkdir, unlink } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { listenOnFd } from './activation.ts';
import { DEFAULT_MAX_QUEUED_BYTES, readLines, SocketConnection, type Connection, type ServerLog } from './connection.ts';

export type { Connection } from './connection.ts';


export interface ServerOptions {
  socketPath: string;
  handleLine(line: string, conn: Connection): Promise<string | null>;
  log: ServerLog;
  /** Let the socket's group connect too (mode 0660 instead of 0600). */
  groupAccess?: boolean;
  /** The socket file's mode (config `socket.mode`); wins over groupAccess. */
  socketMode?: number;
  /** Give the socket file to this group (config `socket.group`). */
  socketGid?: number;
  /** An inherited listening socket (systemd activation): used as is, never unlinked. */
  listenFd?: number;
  maxLineBytes?: number;
  maxQueuedBytes?: number;
  onClose?(conn: Connection): void;
}

export interface RunningServer {
  /** Stops accepting, ends every connection, removes the socket file. */
  close(): Promise<void>;
  connections(): Iterable<Connection>;
}

/** Another daemon answers on the socket path: we must not take it over. */
export class SocketInUseError extends Error {
  constructor(readonly socketPath: string) {
    super(`a portmand daemon already listens on ${socketPath}`);
    this.name = 'SocketInUseError';
  }
}

/** The socket path holds something that is not a socket: we refuse to delete it. */
export class SocketPathError extends Error {
  constructor(readonly socketPath: string) {
    super(`${socketPath} exists and is not a socket; refusing to replace it`);
    this.name = 'SocketPathError';
  }
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const { socketPath, log } = opts;
  const mode = opts.socketMode ?? (opts.groupAccess ? 0o660 : 0o600);
  if (opts.listenFd === undefined) await prepareSocketPath(socketPath, mode);
  const conns = new Set<SocketConnection>();
  let nextId = 1;
  const server = net.createServer((socket) => {
    const conn = new SocketConnection(nextId++, socket, opts.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES, log);
    conns.add(conn);
    socket.once('close', () => {
      conns.delete(conn);
      opts.onClose?.(conn);
    });
    readLines(socket, conn, opts);
  });
  if (opts.listenFd !== undefined) {
    await listenOnFd(server, opts.listenFd);
  } else {
    await listen(server, socketPath, 0o777 & ~mode);
    if (opts.socketGid !== undefined) await chown(socketPath, -1, opts.socketGid);
    await chmod(socketPath, mode);
  }
  server.on('error', (err) => log.error({ err }, 'socket server error'));
  log.info({ socket: socketPath, activated: opts.listenFd !== undefined }, 'listening');

  return {
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const conn of conns) conn.close();
      await closed;
      // An activated socket belongs to the manager, which keeps it for the next start.
      if (opts.listenFd === undefined) await unlink(socketPath).catch(ignoreMissing);
    },
    connections: () => conns.values(),
  };
}

/** Makes the parent dir and clears a stale socket file; refuses a live socket or a non-socket. */
async function prepareSocketPath(socketPath: string, mode: number): Promise<void> {
  // Others who may open the socket must be able to pass through its directory.
  await mkdir(path.dirname(socketPath), { recursive: true, mode: mode & 0o077 ? 0o711 : 0o700 });
  let isSocket: boolean;
  try {
    isSocket = (await lstat(socketPath)).isSocket();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (!isSocket) throw new SocketPathError(socketPath);
  if (await answers(socketPath)) throw new SocketInUseError(socketPath);
  await unlink(socketPath).catch(ignoreMissing);
}

/** Whether something accepts connections on the socket (ECONNREFUSED/ENOENT mean a dead daemon's leftover). */
function answers(socketPath: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const probe = net.connect(socketPath);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', (err: NodeJS.ErrnoException) => {
      probe.destroy();
      if (err.code === 'ECONNREFUSED' || err.code === 'ENOENT') resolve(false);
      else if (err.code === 'EAGAIN') resolve(true); // alive, its backlog is full
      else reject(err);
    });
  });
}

/** Listens with a tight umask so the socket is never, even briefly, open to others. */
function listen(server: net.Server, socketPath: string, mask: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    // Pipe listen binds synchronously, so the umask only needs to hold during this call.
    const previous = setUmask(mask);
    try {
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    } finally {
      if (previous !== undefined) setUmask(previous);
    }
  });
}

// process.umask() cannot be set in worker threads; the chmod after listen still applies there.
function setUmask(mask: number): number | undefined {
  try {
    return process.umask(mask);
  } catch {
    return undefined;
  }
}

function ignoreMissing(err: NodeJS.ErrnoException): void {
  if (err.code !== 'ENOENT') throw err;
}
