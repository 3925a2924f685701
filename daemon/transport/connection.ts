// One client connection: NDJSON framing with a line limit, pipelined
// requests with bounded concurrency, and a bounded outbound queue so a slow
// reader costs its own connection, never the daemon.
import type net from 'node:net';
import { ErrorCode, MAX_LINE_BYTES } from '../../client/protocol.ts';

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

export type ServerLog = { info(o: object, m: string): void; warn(o: object, m: string): void; error(o: object, m: string): void };

export interface LineOptions {
  handleLine(line: string, conn: Connection): Promise<string | null>;
  log: ServerLog;
  maxLineBytes?: number;
}

export class SocketConnection implements Connection {
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
export function readLines(socket: net.Socket, conn: SocketConnection, opts: LineOptions): void {
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
