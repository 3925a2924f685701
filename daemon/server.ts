// The Unix socket server: NDJSON framing with a line limit, one Connection per
// client with a bounded outbound queue, pipelined requests, and a socket file
// that nobody else can open. What a line means is handleLine's business.
import { chmod, lstat, mkdir, unlink } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { ErrorCode, MAX_LINE_BYTES } from '../client/protocol.ts';

export const DEFAULT_MAX_QUEUED_BYTES = 4 * 1024 * 1024;
/** Requests one connection may have running; reading pauses beyond this. */
const MAX_IN_FLIGHT = 256;
/** How long a closing connection may take to flush before it is cut. */
const CLOSE_GRACE_MS = 2000;

/** One client connection, as handlers and the event bus see it. */
export interface Connection {
  readonly id: number;
  /** Event types this connection receives (kept by the event bus). */
  readonly subscriptions: Set<string>;
  /** Sends a JSON-RPC notification; queues when the client reads slowly. */
  notify(method: string, params: unknown): void;
  /** Flushes what is queued, then ends the connection. */
  close(): void;
  readonly closed: boolean;
}

type ServerLog = { info(o: object, m: string): void; warn(o: object, m: string): void; error(o: object, m: string): void };

export interface ServerOptions {
  socketPath: string;
  handleLine(line: string, conn: Connection): Promise<string | null>;
  log: ServerLog;
  /** Let the socket's group connect too (mode 0660 instead of 0600). */
  groupAccess?: boolean;
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
  await prepareSocketPath(socketPath);
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
  await listen(server, socketPath, opts.groupAccess ? 0o007 : 0o077);
  server.on('error', (err) => log.error({ err }, 'socket server error'));
  await chmod(socketPath, opts.groupAccess ? 0o660 : 0o600);
  log.info({ socket: socketPath }, 'listening');

  return {
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const conn of conns) conn.close();
      await closed;
      await unlink(socketPath).catch(ignoreMissing);
    },
    connections: () => conns.values(),
  };
}

class SocketConnection implements Connection {
  readonly subscriptions = new Set<string>();
  #queue: string[] = [];
  #queuedBytes = 0;
  #waitingDrain = false;
  #closing = false;
  /** Called when the socket takes writes again, so reading can resume. */
  onWritable: () => void = () => {};

  constructor(
    readonly id: number,
    private readonly socket: net.Socket,
    private readonly maxQueuedBytes: number,
    private readonly log: ServerLog,
  ) {
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE' && err.code !== 'ECONNRESET') log.warn({ err, conn: id }, 'connection error');
    });
  }

  get closed(): boolean {
    return this.#closing || this.socket.destroyed;
  }

  get writable(): boolean {
    return !this.#waitingDrain;
  }

  notify(method: string, params: unknown): void {
    this.send(JSON.stringify({ jsonrpc: '2.0', method, params }));
  }

  send(line: string): void {
    if (this.closed) return;
    const data = `${line}\n`;
    if (!this.#waitingDrain) {
      if (!this.socket.write(data)) this.#awaitDrain();
      return;
    }
    this.#queue.push(data);
    this.#queuedBytes += Buffer.byteLength(data);
    if (this.#queuedBytes > this.maxQueuedBytes) {
      this.log.warn({ conn: this.id, queuedBytes: this.#queuedBytes }, 'client reads too slowly: outbound queue full, dropping the connection');
      this.destroy();
    }
  }

  close(): void {
    if (this.closed) return;
    this.#closing = true;
    // A peer that never reads or never closes its side must not keep the socket forever.
    const timer = setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS);
    timer.unref();
    this.socket.once('close', () => clearTimeout(timer));
    if (!this.#waitingDrain) this.#end();
  }

  destroy(): void {
    this.#closing = true;
    this.#queue = [];
    this.#queuedBytes = 0;
    this.socket.destroy();
  }

  #awaitDrain(): void {
    this.#waitingDrain = true;
    this.socket.once('drain', () => this.#flush());
  }

  // The whole queue goes in one write: the socket holds at most one queue's worth beyond ours.
  #flush(): void {
    this.#waitingDrain = false;
    if (this.socket.destroyed) return;
    if (this.#queue.length > 0) {
      const data = this.#queue.join('');
      this.#queue = [];
      this.#queuedBytes = 0;
      if (!this.socket.write(data)) return this.#awaitDrain();
    }
    if (this.#closing) this.#end();
    else this.onWritable();
  }

  #end(): void {
    this.socket.once('finish', () => this.socket.destroy());
    this.socket.end();
  }
}

/** Splits the byte stream into lines and runs them concurrently; answers -32600 and closes on an over-long line. */
function readLines(socket: net.Socket, conn: SocketConnection, opts: ServerOptions): void {
  const max = opts.maxLineBytes ?? MAX_LINE_BYTES;
  let partial: Buffer[] = [];
  let partialBytes = 0;
  let inFlight = 0;
  let refused = false;

  const paceReading = () => {
    if (inFlight >= MAX_IN_FLIGHT || !conn.writable) socket.pause();
    else if (!refused) socket.resume();
  };
  conn.onWritable = paceReading;

  const dispatch = (line: string) => {
    if (!/\S/.test(line)) return;
    inFlight += 1;
    paceReading();
    opts
      .handleLine(line, conn)
      .then(
        (response) => response !== null && conn.send(response),
        (err: unknown) => opts.log.error({ err, conn: conn.id }, 'request handling failed'),
      )
      .finally(() => {
        inFlight -= 1;
        paceReading();
      });
  };

  const refuse = () => {
    refused = true;
    partial = [];
    opts.log.warn({ conn: conn.id, limit: max }, 'request line over the size limit; closing the connection');
    conn.send(JSON.stringify(lineTooLong(max)));
    conn.close();
  };

  socket.on('data', (chunk: Buffer) => {
    let start = 0;
    while (!refused) {
      const nl = chunk.indexOf(0x0a, start);
      const end = nl === -1 ? chunk.length : nl;
      if (partialBytes + end - start > max) return refuse();
      if (nl === -1) {
        if (end > start) partial.push(chunk.subarray(start));
        partialBytes += end - start;
        return;
      }
      const bytes = partial.length === 0 ? chunk.subarray(start, nl) : Buffer.concat([...partial, chunk.subarray(start, nl)]);
      partial = [];
      partialBytes = 0;
      start = nl + 1;
      const line = bytes.toString('utf8');
      dispatch(line.endsWith('\r') ? line.slice(0, -1) : line);
    }
  });
}

function lineTooLong(max: number): object {
  return {
    jsonrpc: '2.0',
    id: null,
    error: {
      code: ErrorCode.InvalidRequest,
      message: `invalid request: line longer than the ${max}-byte limit`,
      data: { field: 'line', problem: `longer than ${max} bytes`, limit: max },
    },
  };
}

/** Makes the parent dir and clears a stale socket file; refuses a live socket or a non-socket. */
async function prepareSocketPath(socketPath: string): Promise<void> {
  await mkdir(path.dirname(socketPath), { recursive: true, mode: 0o700 });
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
