// One JSON-RPC 2.0 connection to the daemon: NDJSON framing over a Unix
// socket, request ids and a pending map (answers may come in any order),
// lazy connect, timeouts, and background reconnect while someone listens
// for events.
import net from 'node:net';
import { ConnectionError, DaemonTimeoutError, PortmandError, connectError } from './errors.ts';
import { LineFramer } from './ndjson.ts';

export interface ConnectionHooks {
  /** A server-to-client notification (the daemon sends `event`). */
  onNotification(method: string, params: unknown): void;
  /** The socket is up; `again` is true for every connect after the first. */
  onConnect?(again: boolean): void;
  /** The socket dropped (not called for close()). */
  onDisconnect?(): void;
}

interface Pending {
  resolve(result: unknown): void;
  reject(err: Error): void;
  method: string;
  /** Sent by a late answer's handler: close() lets it finish (see LateAnswer). */
  late?: true;
}

/**
 * Told what became of a call after its caller gave up on it (the call timed
 * out): `answer` is its result when the daemon answered it after all, null when
 * it failed or will never be known (the request was never sent, the socket
 * closed, or close() waited LATE_LINGER_MS in vain). `send` asks one more call
 * on the same connection, even after close(), to undo what the late answer
 * did. Called exactly once for a call whose own timeout fired; never otherwise.
 */
export type LateAnswer = (
  answer: { result: unknown } | null,
  send: (method: string, params: unknown) => Promise<unknown>,
) => void | Promise<void>;

export interface Timeouts {
  /** How long a connect may take; 0 waits as long as the OS does. */
  connectTimeoutMs: number;
  /** How long one call may take, connect included; 0 waits forever. */
  timeoutMs: number;
}

const RETRY_FIRST_MS = 50;
const RETRY_CAP_MS = 2000;
/** The longest answer line read; far beyond any answer the daemon gives (port.list of every port is a few MB). */
const MAX_ANSWER_BYTES = 256 * 1024 * 1024;
/**
 * How long close() keeps a socket open (unref'd: it never keeps the process
 * alive) for the late answers of calls that timed out. Past it, a late grant
 * is held until this process exits, as before.
 */
export const LATE_LINGER_MS = 5 * 60_000;

export class Connection {
  private socket: net.Socket | null = null;
  private connecting: Promise<net.Socket> | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private everConnected = false;
  private closed = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private retryDelay = RETRY_FIRST_MS;
  private keepAlive = false;
  /** Calls that timed out after they were sent, by id: their answer, if it comes, goes to the handler. */
  private readonly late = new Map<number, LateAnswer>();
  /** Late answers whose handlers still run (they may send a call). */
  private settling = 0;
  private lingerTimer: NodeJS.Timeout | null = null;
  /** An error the daemon sent with id null (a limit this connection passed): why it is about to close. */
  private farewell: RpcError | null = null;

  constructor(
    readonly socketPath: string,
    private readonly hooks: ConnectionHooks,
    private readonly timeouts: Timeouts = { connectTimeoutMs: 0, timeoutMs: 0 },
  ) {}

  /**
   * While true, a dropped socket is reconnected in the background (with
   * backoff capped at 2 s) rather than on the next call: event listeners
   * need the connection even when they send nothing.
   */
  setPersistent(on: boolean): void {
    this.keepAlive = on;
    if (on && !this.socket) this.scheduleReconnect();
    this.updateRef();
  }

  /**
   * Sends one request and resolves to its result, or rejects with
   * PortmandError (the daemon said no), DaemonTimeoutError (no answer within
   * timeoutMs) or ConnectionError.
   */
  request(method: string, params: unknown, onLate?: LateAnswer): Promise<unknown> {
    const id = this.nextId++;
    const call = { timedOut: false };
    const answer = this.send(id, method, params, call);
    const { timeoutMs } = this.timeouts;
    if (!(timeoutMs > 0)) return answer;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        call.timedOut = true;
        // Sent already: a late answer goes to onLate (or is ignored, like one for an id we never sent).
        const sent = this.pending.delete(id);
        if (onLate) {
          if (sent) this.late.set(id, onLate);
          else void settle(onLate, null, () => Promise.reject(new Error('not sent')));
        }
        this.updateRef();
        reject(new DaemonTimeoutError(this.socketPath, method, timeoutMs));
      }, timeoutMs);
    });
    return Promise.race([answer, expired]).finally(() => clearTimeout(timer));
  }

  private async send(id: number, method: string, params: unknown, call?: { timedOut: boolean }, late = false): Promise<unknown> {
    if (this.closed && !late) throw new ConnectionError('the portmand client is closed', this.socketPath);
    const socket = late ? this.socket : await this.connect();
    if (!socket || this.socket !== socket)
      throw new ConnectionError(`the connection to portmand at ${this.socketPath} closed`, this.socketPath);
    // Its caller gave up while we connected: a request never sent can never be granted.
    if (call?.timedOut) throw new ConnectionError('the call timed out before it was sent', this.socketPath);
    const answer = new Promise<unknown>((resolve, reject) => this.pending.set(id, { resolve, reject, method, ...(late && { late }) }));
    socket.ref();
    socket.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
    return answer;
  }

  /** A call made by a late answer's handler: on this socket only, even after close(), within the usual timeout. */
  private sendLate(method: string, params: unknown): Promise<unknown> {
    const id = this.nextId++;
    const answer = this.send(id, method, params, undefined, true);
    const { timeoutMs } = this.timeouts;
    if (!(timeoutMs > 0)) return answer;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.pending.delete(id);
        this.updateRef();
        reject(new DaemonTimeoutError(this.socketPath, method, timeoutMs));
      }, timeoutMs);
    });
    return Promise.race([answer, expired]).finally(() => clearTimeout(timer));
  }

  private onLateAnswer(handler: LateAnswer, answer: { result: unknown } | null): void {
    this.settling += 1;
    void settle(handler, answer, (method, params) => this.sendLate(method, params)).finally(() => {
      this.settling -= 1;
      this.endIfSettled();
    });
  }

  /** After close(): the socket goes once no late answer is awaited or handled. */
  private endIfSettled(): void {
    if (!this.closed || this.late.size > 0 || this.settling > 0) return;
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    this.lingerTimer = null;
    this.socket?.destroy();
    this.socket = null;
  }

  /** The socket is gone, or we stop waiting: every late answer still awaited will never come. */
  private dropLate(): void {
    const handlers = [...this.late.values()];
    this.late.clear();
    for (const h of handlers) this.onLateAnswer(h, null);
  }

  /** Ends the connection, rejects what is pending and stops reconnecting; the process may then exit. */
  close(): void {
    this.closed = true;
    // No more events are wanted: a socket kept for late answers must not be ref'd again by what arrives (updateRef).
    this.keepAlive = false;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.rejectAll('the portmand client was closed', false);
    if (this.socket && (this.late.size > 0 || this.settling > 0)) {
      // A call that timed out may still be granted: wait for its answer (not keeping the process alive) to undo it.
      this.socket.unref();
      this.lingerTimer ??= setTimeout(() => {
        this.lingerTimer = null;
        this.dropLate();
        this.socket?.destroy();
      }, LATE_LINGER_MS);
      this.lingerTimer.unref();
      return;
    }
    this.socket?.destroy();
    this.socket = null;
  }

  private connect(): Promise<net.Socket> {
    if (this.socket) return Promise.resolve(this.socket);
    this.connecting ??= new Promise<net.Socket>((resolve, reject) => {
      const socket = net.createConnection(this.socketPath);
      const { connectTimeoutMs } = this.timeouts;
      const timer =
        connectTimeoutMs > 0
          ? setTimeout(() => {
              this.connecting = null;
              socket.destroy();
              reject(new DaemonTimeoutError(this.socketPath, 'connect', connectTimeoutMs));
            }, connectTimeoutMs)
          : undefined;
      socket.once('error', (err) => {
        clearTimeout(timer);
        this.connecting = null;
        reject(connectError(err, this.socketPath));
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        this.connecting = null;
        if (this.closed) {
          socket.destroy();
          reject(new ConnectionError('the portmand client is closed', this.socketPath));
          return;
        }
        this.attach(socket);
        resolve(socket);
      });
    });
    return this.connecting;
  }

  private attach(socket: net.Socket): void {
    this.socket = socket;
    this.retryDelay = RETRY_FIRST_MS;
    const framer = new LineFramer({
      maxLineBytes: MAX_ANSWER_BYTES,
      onLine: (line) => this.onLine(line),
      onOverflow: () => {
        this.rejectAll(
          `an answer from portmand at ${this.socketPath} was longer than ${MAX_ANSWER_BYTES} bytes; ask for less (filters or a limit)`,
        );
        socket.destroy();
      },
    });
    socket.on('data', (chunk: Buffer) => {
      framer.push(chunk);
      this.updateRef();
    });
    // 'close' always follows 'error'; pending calls are rejected there.
    socket.on('error', () => {});
    socket.on('close', () => this.onClose(socket));
    const again = this.everConnected;
    this.everConnected = true;
    this.updateRef();
    this.hooks.onConnect?.(again);
  }

  private onClose(socket: net.Socket): void {
    if (this.socket !== socket) return;
    this.socket = null;
    // The daemon said why it closed: each pending call fails with that, not with a bare "closed".
    const farewell = this.farewell;
    this.farewell = null;
    this.rejectAll(`the connection to portmand at ${this.socketPath} closed before it answered`, true, farewell);
    this.dropLate();
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    this.lingerTimer = null;
    if (this.closed) return;
    this.hooks.onDisconnect?.();
    if (this.keepAlive) this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.retryTimer || this.closed) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.socket || !this.keepAlive) return;
      this.connect().catch(() => {
        this.retryDelay = Math.min(this.retryDelay * 2, RETRY_CAP_MS);
        this.scheduleReconnect();
      });
    }, this.retryDelay);
    // A reconnect alone must not keep the process alive; a caller who wants
    // to wait for the daemon (the CLI's watch) holds the process open itself.
    this.retryTimer.unref();
  }

  private onLine(line: string): void {
    if (!/\S/.test(line)) return;
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      return; // not ours to repair; a call it belonged to fails when the socket closes
    }
    for (const m of Array.isArray(message) ? message : [message]) this.onMessage(m);
  }

  private onMessage(m: unknown): void {
    if (!m || typeof m !== 'object') return;
    const msg = m as { id?: unknown; method?: unknown; params?: unknown; result?: unknown; error?: RpcError };
    if (typeof msg.method === 'string' && msg.id === undefined) {
      // After close() the socket may linger for late answers (see LATE_LINGER_MS): events on it are no one's any more.
      if (this.closed) return;
      deliver(() => this.hooks.onNotification(msg.method as string, msg.params));
      return;
    }
    if (msg.id === null && msg.error) {
      this.farewell = msg.error;
      return;
    }
    const pending = typeof msg.id === 'number' ? this.pending.get(msg.id) : undefined;
    if (!pending) {
      const late = typeof msg.id === 'number' ? this.late.get(msg.id) : undefined;
      if (!late) return;
      this.late.delete(msg.id as number);
      this.onLateAnswer(late, msg.error ? null : { result: msg.result });
      return;
    }
    this.pending.delete(msg.id as number);
    if (msg.error) pending.reject(toPortmandError(msg.error, pending.method));
    else pending.resolve(msg.result);
  }

  /** Rejects pending calls; `late` false spares those of late answers' handlers (close() lets them finish). */
  private rejectAll(message: string, late = true, farewell: RpcError | null = null): void {
    for (const [id, p] of [...this.pending]) {
      if (p.late && !late) continue;
      this.pending.delete(id);
      p.reject(farewell ? toPortmandError(farewell, p.method) : new ConnectionError(message, this.socketPath));
    }
  }

  // An idle connection without event listeners must not keep the process
  // alive, so a script that forgets close() still exits.
  private updateRef(): void {
    if (!this.socket) return;
    if (this.pending.size > 0 || this.keepAlive) this.socket.ref();
    else this.socket.unref();
  }
}

interface RpcError {
  code?: unknown;
  message?: unknown;
  data?: unknown;
}

function toPortmandError(error: RpcError, method: string): PortmandError {
  const code = typeof error.code === 'number' ? error.code : 0;
  const message = typeof error.message === 'string' ? error.message : `${method} failed`;
  const data = error.data && typeof error.data === 'object' ? (error.data as Record<string, unknown>) : undefined;
  return new PortmandError(code, message, data, method);
}

/** Runs a late answer's handler; what it throws is its own business (nobody waits for it). */
async function settle(handler: LateAnswer, answer: { result: unknown } | null, send: Parameters<LateAnswer>[1]): Promise<void> {
  try {
    await handler(answer, send);
  } catch {
    // nothing to tell: its caller gave up long ago
  }
}

// A listener that throws must not cut the read loop short and lose the lines
// after it; its error still surfaces, as an uncaught exception.
function deliver(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    queueMicrotask(() => {
      throw err;
    });
  }
}
