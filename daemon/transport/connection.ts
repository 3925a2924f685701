// One client connection: NDJSON framing (client/ndjson.ts) with a line
// limit, pipelined requests with bounded concurrency, and an outbound queue
// that a slow reader pays for with its own connection, never the daemon.
//
// Flow control, in three rules:
// - Answers are owed: the client asked for them, and reading pauses while
//   they wait, so a client cannot ask faster than it reads. They may go past
//   the byte limit, but only while the client keeps reading: with more than
//   the limit unread and nothing read for `stallMs`, the client is dropped.
// - Events are pushed whether or not the client reads: a subscriber whose
//   unread bytes would pass the limit is dropped at once (it reconnects and
//   replays what it missed with sinceSeq).
// - The socket itself is handed one chunk at a time, so what waits is in
//   our queue, where it is counted, not in the socket's own buffer.
import type net from 'node:net';
import { LineFramer } from '../../client/ndjson.ts';
import { ErrorCode, MAX_LINE_BYTES } from '../../client/protocol.ts';

export const DEFAULT_MAX_QUEUED_BYTES = 4 * 1024 * 1024;
/** How long a client may read nothing while more than the limit waits for it. */
export const DEFAULT_STALL_MS = 10_000;
/** Requests one connection may have running; reading pauses beyond this. */
const MAX_IN_FLIGHT = 256;
/** How long a closing connection may take to flush before it is cut. */
const CLOSE_GRACE_MS = 2000;
/** The most given to the socket in one write. */
const WRITE_CHUNK_BYTES = 64 * 1024;

/** One client connection, as handlers and the event bus see it. */
export interface Connection {
  readonly id: number;
  /** Event types this connection receives (kept by the event bus). */
  readonly subscriptions: Set<string>;
  /** Sends a JSON-RPC notification; queues when the client reads slowly. */
  notify(method: string, params: unknown): void;
  /** Flushes what is queued, then ends the connection. */
  close(): void;
  /** Tells the client why it is dropped (an error with id null, as for a line it never sent), then closes the connection. */
  refuse(error: Refusal): void;
  readonly closed: boolean;
}

/** The error a refused connection is told (a limit it passed). */
export interface Refusal {
  code: number;
  message: string;
  data: Record<string, unknown>;
}

/** The line that tells a client why its connection is refused. */
export function refusalLine(error: Refusal): string {
  return JSON.stringify({ jsonrpc: '2.0', id: null, error });
}

export type ServerLog = {
  info(o: object, m: string): void;
  warn(o: object, m: string): void;
  error(o: object, m: string): void;
  debug?(o: object, m: string): void;
};

export interface FlowLimits {
  /** Unread bytes a subscriber may have before it is dropped, and that answers may pass only while read. */
  maxQueuedBytes: number;
  stallMs: number;
}

export interface LineOptions {
  handleLine(line: string, conn: Connection): Promise<string | null>;
  log: ServerLog;
  maxLineBytes?: number;
  /** How long a line may stay half-sent before the connection is closed (config limits.idleTimeoutSec). */
  idleTimeoutMs?: number;
}

export class SocketConnection implements Connection {
  readonly subscriptions = new Set<string>();
  // Bare buffers, shared with other subscribers for events: with thousands
  // queued, a wrapper object per entry would cost more than the bytes.
  #queue: Buffer[] = [];
  /** Where the queue starts, and how much of that buffer is already written. */
  #head = 0;
  #headOffset = 0;
  /** The answers among the queued buffers; the rest are events. */
  #answers = new Set<Buffer>();
  #queuedBytes = 0;
  #queuedPushedBytes = 0;
  #waitingDrain = false;
  #closing = false;
  #ending = false;
  #stallTimer: NodeJS.Timeout | null = null;
  #graceTimer: NodeJS.Timeout | null = null;
  /** Called when everything queued has gone to the socket, so reading can resume. */
  onWritable: () => void = () => {};

  constructor(
    readonly id: number,
    private readonly socket: net.Socket,
    private readonly limits: FlowLimits,
    private readonly log: ServerLog,
  ) {
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE' && err.code !== 'ECONNRESET') log.warn({ err, conn: id }, 'connection error');
    });
    socket.on('drain', () => {
      this.#waitingDrain = false;
      this.#stallTimer?.refresh(); // the client read something
      this.#pump();
    });
    socket.once('close', () => this.#stopStallTimer());
  }

  get closed(): boolean {
    return this.#closing || this.socket.destroyed;
  }

  /** Nothing waits to be written: reading more requests is fine. */
  get writable(): boolean {
    return !this.#waitingDrain && this.#queuedBytes === 0;
  }

  /** Bytes written for this client that it has not read yet (our queue and the socket's buffer). */
  get unreadBytes(): number {
    return this.#queuedBytes + this.socket.writableLength;
  }

  notify(method: string, params: unknown): void {
    if (this.closed) return;
    const data = encodeNotification(method, params);
    // Counted as if all the socket holds were events: the bound stays a bound.
    if (this.#queuedPushedBytes + this.socket.writableLength + data.length > this.limits.maxQueuedBytes) {
      this.log.warn(
        { conn: this.id, unreadBytes: this.unreadBytes, limit: this.limits.maxQueuedBytes },
        'client reads too slowly: its unread events passed the limit; dropping the connection',
      );
      this.destroy();
      return;
    }
    this.#queuedPushedBytes += data.length;
    this.#enqueue(data);
  }

  /** Sends one answer line (without its newline). */
  send(line: string): void {
    if (this.closed) return;
    const data = Buffer.from(`${line}\n`);
    this.#answers.add(data);
    this.#enqueue(data);
  }

  refuse(error: Refusal): void {
    if (this.closed) return;
    this.send(refusalLine(error));
    this.close();
  }

  /** Server shutdown: flush for a short grace, then cut. */
  close(): void {
    if (this.socket.destroyed || this.#graceTimer) return;
    this.#closing = true;
    // A peer that never reads or never closes its side must not keep the socket forever.
    const timer = setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS);
    timer.unref();
    this.#graceTimer = timer;
    this.socket.once('close', () => clearTimeout(timer));
    this.#pump();
  }

  /**
   * The client half-closed and every answer it is owed has been queued: send
   * them all, then end. No grace timer: a client reading a big answer at full
   * speed is served; one that stops reading meets the stall rule.
   */
  finish(): void {
    if (this.closed) return;
    this.#closing = true;
    this.#pump();
  }

  destroy(): void {
    this.#closing = true;
    this.#queue = [];
    this.#head = 0;
    this.#headOffset = 0;
    this.#answers.clear();
    this.#queuedBytes = 0;
    this.#queuedPushedBytes = 0;
    this.#stopStallTimer();
    this.socket.destroy();
  }

  #enqueue(data: Buffer): void {
    this.#queue.push(data);
    this.#queuedBytes += data.length;
    this.#pump();
    if (this.unreadBytes > this.limits.maxQueuedBytes) this.#startStallTimer();
  }

  #pump(): void {
    while (this.#queuedBytes > 0 && !this.#waitingDrain) {
      if (this.socket.destroyed) return;
      if (!this.socket.write(this.#take(WRITE_CHUNK_BYTES))) this.#waitingDrain = true;
    }
    if (this.#waitingDrain || this.socket.destroyed) return;
    if (this.#closing) this.#end();
    else this.onWritable();
  }

  /** Up to `max` bytes from the head of the queue, splitting a long line. */
  #take(max: number): Buffer {
    const parts: Buffer[] = [];
    let room = max;
    while (room > 0 && this.#head < this.#queue.length) {
      const head = this.#queue[this.#head]!;
      const part = head.subarray(this.#headOffset, this.#headOffset + room);
      parts.push(part);
      room -= part.length;
      this.#queuedBytes -= part.length;
      const answer = this.#answers.has(head);
      if (!answer) this.#queuedPushedBytes -= part.length;
      this.#headOffset += part.length;
      if (this.#headOffset < head.length) break;
      if (answer) this.#answers.delete(head);
      this.#head += 1;
      this.#headOffset = 0;
    }
    // Drop the written part of the array when it is empty or mostly written, not on every write.
    if (this.#head === this.#queue.length || (this.#head > 1024 && this.#head * 2 > this.#queue.length)) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  #startStallTimer(): void {
    if (this.#stallTimer) return;
    this.#stallTimer = setTimeout(() => {
      this.#stallTimer = null;
      if (this.socket.destroyed || this.unreadBytes <= this.limits.maxQueuedBytes) return;
      this.log.warn(
        { conn: this.id, unreadBytes: this.unreadBytes, limit: this.limits.maxQueuedBytes, stallMs: this.limits.stallMs },
        'client reads too slowly: more than the limit unread and nothing read for a while; dropping the connection',
      );
      this.destroy();
    }, this.limits.stallMs);
    this.#stallTimer.unref();
  }

  #stopStallTimer(): void {
    if (this.#stallTimer) clearTimeout(this.#stallTimer);
    this.#stallTimer = null;
  }

  #end(): void {
    if (this.#ending) return;
    this.#ending = true;
    this.socket.once('finish', () => this.socket.destroy());
    this.socket.end();
  }
}

// Events fan out to every subscriber: serialise each once and share the
// bytes, so N slow subscribers hold one copy of an event, not N. An event
// is never changed after it is published, so the cache cannot go stale.
const encoded = new WeakMap<object, { method: string; data: Buffer }>();

function encodeNotification(method: string, params: unknown): Buffer {
  const line = () => Buffer.from(`${JSON.stringify({ jsonrpc: '2.0', method, params })}\n`);
  if (params === null || typeof params !== 'object') return line();
  const hit = encoded.get(params);
  if (hit?.method === method) return hit.data;
  const data = line();
  encoded.set(params, { method, data });
  return data;
}

/**
 * Splits the byte stream into lines and runs them concurrently; answers
 * -32600 and closes on an over-long line. When the client half-closes
 * (shutdown(SHUT_WR), as `nc -N` and socat do), every request already sent
 * is still answered, then the connection ends.
 */
export function readLines(socket: net.Socket, conn: SocketConnection, opts: LineOptions): void {
  const max = opts.maxLineBytes ?? MAX_LINE_BYTES;
  let inFlight = 0;
  let ended = false;

  const paceReading = () => {
    if (ended) return;
    if (inFlight >= MAX_IN_FLIGHT || !conn.writable) socket.pause();
    else if (!framer.overflowed) socket.resume();
  };
  conn.onWritable = paceReading;

  const finishIfDone = () => {
    if (ended && inFlight === 0) conn.finish();
  };

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
        finishIfDone();
      });
  };

  const framer = new LineFramer({
    maxLineBytes: max,
    onLine: dispatch,
    onOverflow: () => {
      opts.log.warn({ conn: conn.id, limit: max }, 'request line over the size limit; closing the connection');
      conn.send(JSON.stringify(lineTooLong(max)));
      conn.close();
    },
  });

  // A client that sends part of a line and then nothing holds a connection and its buffer for nothing.
  let idle: NodeJS.Timeout | null = null;
  const stopIdle = () => {
    if (idle) clearTimeout(idle);
    idle = null;
  };
  const watchIdle = () => {
    if (opts.idleTimeoutMs === undefined || framer.pendingBytes === 0) return stopIdle();
    if (idle) return void idle.refresh();
    idle = setTimeout(() => {
      opts.log.warn(
        { conn: conn.id, pendingBytes: framer.pendingBytes, idleTimeoutMs: opts.idleTimeoutMs },
        'client sent part of a line and then nothing; closing the connection',
      );
      conn.destroy();
    }, opts.idleTimeoutMs);
    idle.unref();
  };
  socket.once('close', stopIdle);

  socket.on('data', (chunk: Buffer) => {
    framer.push(chunk);
    watchIdle();
  });
  socket.once('end', () => {
    stopIdle();
    framer.end();
    ended = true;
    opts.log.debug?.({ conn: conn.id, inFlight }, 'client closed its sending side; answering what is in flight, then closing');
    finishIfDone();
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
