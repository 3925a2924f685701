// The Unix socket server: the socket file (that nobody else can open, that a
// dead daemon's leftover never blocks, and that only its creator removes),
// and one Connection per client. Framing and flow control live in
// connection.ts; what a line means is handleLine's business.
import type { Stats } from 'node:fs';
import { chmod, chown, lstat, mkdir, rename, unlink } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { ErrorCode } from '../../client/protocol.ts';
import { checkTrustedDir, type DirRule } from '../host/trusted-dir.ts';
import { StateDirInUseError, type DirLock } from '../store/lock.ts';
import { listenOnFd } from './activation.ts';
import {
  DEFAULT_MAX_QUEUED_BYTES,
  DEFAULT_STALL_MS,
  readLines,
  refusalLine,
  SocketConnection,
  type Connection,
  type ServerLog,
} from './connection.ts';
import { ignoreExisting, lockSocketPath } from './socket-lock.ts';

export type { Connection, Refusal } from './connection.ts';

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
  /** Unread bytes a client may have: events beyond it drop the client, answers only after `stallMs` unread. */
  maxQueuedBytes?: number;
  stallMs?: number;
  /** How long a line may stay half-sent before its connection is closed. */
  idleTimeoutMs?: number;
  /** Connections beyond this many are answered -32005 and closed. */
  maxConnections?: number;
  /** Each accepted connection, with its socket, before it is read (the access layer finds its peer). */
  onConnect?(conn: Connection, socket: net.Socket): void;
  onClose?(conn: Connection): void;
}

export interface RunningServer {
  /** Stops accepting, ends every connection, removes the socket file. */
  close(): Promise<void>;
  connections(): Iterable<Connection>;
}

/** Another daemon answers on the socket path: we must not take it over. */
export class SocketInUseError extends Error {
  constructor(
    readonly socketPath: string,
    readonly pid?: number,
  ) {
    super(`a portmand daemon${pid === undefined ? '' : ` (pid ${pid})`} already listens on ${socketPath}`);
    this.name = 'SocketInUseError';
  }
}

/** The socket path holds something that is not a socket (a symlink, a file): we refuse to follow or replace it. */
export class SocketPathError extends Error {
  constructor(
    readonly socketPath: string,
    readonly found = 'not a socket',
  ) {
    super(
      `socket path ${socketPath} is ${found}, not a socket: refusing to follow or replace it; remove it or set PORTMAND_SOCKET to another path`,
    );
    this.name = 'SocketPathError';
  }
}

/** Who may own and write the directory of a socket we bind: ours, or root's (/run, /tmp with its sticky bit). */
const SOCKET_DIR: DirRule = { role: 'socket directory', setting: 'PORTMAND_SOCKET', rootMayOwn: true, stickyShared: true };

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const { socketPath } = opts;
  // An activated socket belongs to the manager: no path to prepare, lock or remove.
  if (opts.listenFd !== undefined) return serve(opts, null);
  await prepareSocketDir(opts);
  const lock = await lockSocketPath(socketPath).catch((err: unknown) => {
    throw err instanceof StateDirInUseError ? new SocketInUseError(socketPath, err.pid) : err;
  });
  try {
    return await serve(opts, lock);
  } catch (err) {
    lock.release();
    throw err;
  }
}

/**
 * Creates a socket's directory if needed and refuses one that others could
 * change: only in a directory nobody else can change do the checks made
 * before binding stay true until we act on them.
 */
async function prepareSocketDir(opts: SocketFileOptions, setting = 'PORTMAND_SOCKET'): Promise<void> {
  const dir = path.dirname(opts.socketPath);
  // Others who may open the socket must be able to pass through its directory.
  await mkdir(dir, { recursive: true, mode: socketMode(opts) & 0o077 ? 0o711 : 0o700 }).catch(ignoreExisting);
  await checkTrustedDir(dir, { ...SOCKET_DIR, setting });
}

/** What binding a socket file needs to know: its path, mode and group. */
type SocketFileOptions = Pick<ServerOptions, 'socketPath' | 'socketMode' | 'groupAccess' | 'socketGid'>;

function socketMode(opts: SocketFileOptions): number {
  return opts.socketMode ?? (opts.groupAccess ? 0o660 : 0o600);
}

/** Runs the server on an inherited socket, or on a socket path whose lock we hold. */
async function serve(opts: ServerOptions, lock: DirLock | null): Promise<RunningServer> {
  const { socketPath, log } = opts;
  const limits = { maxQueuedBytes: opts.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES, stallMs: opts.stallMs ?? DEFAULT_STALL_MS };
  const conns = new Set<SocketConnection>();
  let nextId = 1;
  // Half-open: a client that shuts down its sending side (nc -N, socat) still gets every answer it is owed.
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    if (opts.maxConnections !== undefined && conns.size >= opts.maxConnections) return refuse(socket, opts.maxConnections, log);
    const conn = new SocketConnection(nextId++, socket, limits, log);
    conns.add(conn);
    opts.onConnect?.(conn, socket);
    socket.once('close', () => {
      conns.delete(conn);
      opts.onClose?.(conn);
    });
    readLines(socket, conn, opts);
  });
  let ours: Stats | null = null;
  if (opts.listenFd !== undefined) {
    await listenOnFd(server, opts.listenFd);
  } else {
    await checkStaleSocket(socketPath);
    ours = await bindAndRename(server, opts);
  }
  server.on('error', (err) => log.error({ err }, 'socket server error'));
  log.info({ socket: socketPath, activated: opts.listenFd !== undefined }, 'listening');

  return {
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const conn of conns) conn.close();
      await closed;
      if (ours) await unlinkIfOurs(socketPath, ours, log);
      lock?.release();
    },
    connections: () => conns.values(),
  };
}

/**
 * Listens on a socket path with the same care as the daemon's own socket
 * (the path's lock, a dead process's leftover replaced, a live one or a
 * non-socket refused, the mode set before anyone can connect), for another
 * listener of the daemon's (the portserver). Resolves to what removes the
 * socket file again, if it is still ours, and releases the lock.
 */
export async function listenAtPath(server: net.Server, opts: SocketFileOptions & { log: ServerLog }): Promise<() => Promise<void>> {
  const { socketPath } = opts;
  await prepareSocketDir(opts, 'portserver.address');
  const lock = await lockSocketPath(socketPath).catch((err: unknown) => {
    throw err instanceof StateDirInUseError ? new SocketInUseError(socketPath, err.pid) : err;
  });
  try {
    await checkStaleSocket(socketPath);
    const ours = await bindAndRename(server, opts);
    return async () => {
      await unlinkIfOurs(socketPath, ours, opts.log);
      lock.release();
    };
  } catch (err) {
    lock.release();
    throw err;
  }
}

/** One connection too many: it is told why (-32005, id null, as for a line it never sent) and closed. */
function refuse(socket: net.Socket, max: number, log: ServerLog): void {
  log.warn({ maxConnections: max }, 'connection refused: the daemon has as many connections as limits.maxConnections allows');
  const error = {
    code: ErrorCode.RateLimited,
    message: `too many connections: the daemon allows ${max}; try again later`,
    data: { limit: 'maxConnections', max, retryAfterMs: 1000 },
  };
  socket.on('error', () => undefined);
  socket.end(`${refusalLine(error)}\n`);
  setTimeout(() => socket.destroy(), 1000).unref();
}

/**
 * Binds under a name of its own, then renames into place (replacing a stale
 * socket atomically): libuv unlinks the path it bound when the server closes,
 * whatever is there by then, so that path must never be the real one.
 * Returns what we bound, to recognise it later.
 */
async function bindAndRename(server: net.Server, opts: SocketFileOptions): Promise<Stats> {
  const { socketPath } = opts;
  const mode = socketMode(opts);
  const bound = path.join(path.dirname(socketPath), `.pm${process.pid}-${nextBind++}`);
  await listen(server, bound, 0o777 & ~mode);
  try {
    if (opts.socketGid !== undefined) await chown(bound, -1, opts.socketGid);
    await chmod(bound, mode);
    const ours = await lstat(bound); // rename keeps the inode
    await rename(bound, socketPath);
    return ours;
  } catch (err) {
    await unlink(bound).catch(ignoreMissing);
    server.close();
    throw err;
  }
}

/** Numbers this process's temporary bind names (tests run several servers in one process). */
let nextBind = 1;

/**
 * Refuses a live socket or a non-socket at the path (lstat: a symlink is
 * refused, never followed); a dead daemon's socket may be replaced. Nothing
 * here unlinks: bindAndRename's rename replaces the directory entry itself,
 * so even something swapped in after this check is replaced, not followed.
 */
async function checkStaleSocket(socketPath: string): Promise<void> {
  let found: Stats;
  try {
    found = await lstat(socketPath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (!found.isSocket()) throw new SocketPathError(socketPath, kindOf(found));
  if (await answers(socketPath)) throw new SocketInUseError(socketPath);
}

function kindOf(st: Stats): string {
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isDirectory()) return 'a directory';
  if (st.isFile()) return 'a regular file';
  return 'a special file';
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
      else if (err.code === 'EAGAIN')
        resolve(true); // alive, its backlog is full
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

/** Removes the socket file only if it is still the one we bound: someone may have replaced it. */
async function unlinkIfOurs(socketPath: string, ours: Stats, log: ServerLog): Promise<void> {
  const now = await lstat(socketPath).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  if (now === null) return;
  if (now.ino !== ours.ino || now.dev !== ours.dev) {
    log.warn({ socket: socketPath }, 'the socket path now holds a file this daemon did not create; leaving it');
    return;
  }
  await unlink(socketPath).catch(ignoreMissing);
}

function ignoreMissing(err: NodeJS.ErrnoException): void {
  if (err.code !== 'ENOENT') throw err;
}
