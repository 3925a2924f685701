// The portmand client library: one typed method per protocol method,
// namespaced like the contract (pm.port.allocate, pm.service.register, ...),
// pushed events through pm.on(), and getPort() for get-port users.
import { Connection, type LateAnswer } from './connection.ts';
import { ErrorCode, EVENT_METHOD, MUTATING_METHODS } from './protocol.ts';
import type { AllocateParams, EventType, MethodName, ParamsOf, PortmandEvent, Protocol, RegisterParams, ResultOf } from './protocol.ts';
import { DaemonTimeoutError, PortmandError } from './errors.ts';
import { beginAllocation, endAllocation, releaseLateGrant } from './late-grants.ts';
import { answerChallenge, TokenBook } from './auth.ts';
import { currentSocketPath } from './paths.ts';
import { PortWatch, type PortChangeListener } from './port-watch.ts';
import { allocatePreferred } from './allocate-preferred.ts';
import { excludedPorts, preferredPorts } from './port-preferences.ts';

export type * from './protocol.ts';
export { ErrorCode, EVENT_TYPES, EVENT_METHOD, MAX_LINE_BYTES } from './protocol.ts';
export { PortmandError, ConnectionError, DaemonUnavailableError, DaemonTimeoutError } from './errors.ts';
export { currentSocketPath, currentStateDir } from './paths.ts';
export { portNumbers } from './port-preferences.ts';
export type { PortChangeListener } from './port-watch.ts';

/** Params are optional exactly where the contract has no required field. */
export type CallArgs<M extends MethodName> = {} extends ParamsOf<M> ? [params?: ParamsOf<M>] : [params: ParamsOf<M>];
export type MethodCall<M extends MethodName> = (...args: CallArgs<M>) => Promise<ResultOf<M>>;
export type EventListener<T extends EventType | '*'> = (event: T extends EventType ? PortmandEvent<T> : PortmandEvent) => void;

export interface ClientOptions {
  /** Defaults to the path of PROTOCOL.md ($PORTMAND_SOCKET, XDG runtime dir, ...). */
  socketPath?: string;
  /** Send this process's pid with service.register and port.allocate, so the daemon knows the owner (default true). */
  sendPid?: boolean;
  /** Told when the connection drops and when it is back (e.g. to say so in a UI). */
  onConnectionState?: (state: 'connected' | 'disconnected') => void;
  /**
   * How long one call may wait for its answer, connecting included, before
   * it rejects with DaemonTimeoutError (default 60000; 0 waits forever).
   * Pushed events are not calls: a subscription is never timed out.
   */
  timeoutMs?: number;
  /** How long connecting may take (default 5000; 0 leaves it to the OS). */
  connectTimeoutMs?: number;
  /** When the daemon answers -32005 (rate limited), wait its retryAfterMs and try once more (default true). */
  retryRateLimited?: boolean;
  /** When the daemon cannot tell who is calling, prove it with the file challenge and ask again (default true). */
  authenticate?: boolean;
}

/** The longest wait for a rate-limited retry; a longer retryAfterMs is the caller's to decide on. */
const MAX_RETRY_WAIT_MS = 10_000;
const MUTATING = new Set<string>(MUTATING_METHODS);

/** Long enough for the slowest call (a health.check of slow endpoints), short enough that a hung daemon is noticed. */
export const DEFAULT_TIMEOUT_MS = 60_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

export class PortmandClient {
  readonly socketPath: string;
  private readonly conn: Connection;
  private readonly sendPid: boolean;
  private readonly retryRateLimited: boolean;
  private readonly authenticate: boolean;
  /** Tokens of what this client created, sent with later changes to it. */
  private readonly tokens = new TokenBook();
  /** A challenge in progress on the current connection: calls that need one share it. */
  private proving: Promise<void> | null = null;
  private readonly listeners = new Map<EventType | '*', Set<(event: PortmandEvent) => void>>();
  private subscribed: EventType[] = [];
  private lastSeq: number | undefined;
  private readonly portWatch = new PortWatch();
  /** Whether onPortChange added port_assigned to the subscription (and so takes it away after the last watcher). */
  private portSubscription = false;
  /** The last change to that subscription, in flight: the next one starts after it, or an unsubscribe would undo a subscribe it overtook. */
  private portSubscribing: Promise<unknown> = Promise.resolve();

  readonly service = {
    register: (params: RegisterParams) => this.call('service.register', this.withPid(params)),
    list: this.method('service.list'),
    get: this.method('service.get'),
    setPort: this.method('service.setPort'),
    unregister: this.method('service.unregister'),
    restart: this.method('service.restart'),
    /**
     * Calls `fn(port, previous)` whenever the service's port changes
     * (service.setPort, a conflict resolution, the daemon moving it, a
     * registration elsewhere), also across reconnects: a change made while
     * the connection was down is reported once it is back. Resolves, once
     * the daemon has confirmed the subscription, to a function that stops it.
     */
    onPortChange: (name: string, fn: PortChangeListener) => this.watchPort(name, fn),
  };
  readonly port = {
    list: this.method('port.list'),
    get: this.method('port.get'),
    check: this.method('port.check'),
    allocate: (params: AllocateParams) => this.call('port.allocate', this.withPid(params)),
    release: this.method('port.release'),
    suggest: this.method('port.suggest'),
    reserve: this.method('port.reserve'),
    history: this.method('port.history'),
  };
  readonly range = { list: this.method('range.list') };
  readonly conflict = {
    list: this.method('conflict.list'),
    detect: this.method('conflict.detect'),
    resolve: this.method('conflict.resolve'),
    history: this.method('conflict.history'),
    plan: this.method('conflict.plan'),
  };
  readonly health = { list: this.method('health.list'), get: this.method('health.get'), check: this.method('health.check') };
  readonly stats = {
    ports: this.method('stats.ports'),
    services: this.method('stats.services'),
    conflicts: this.method('stats.conflicts'),
    series: this.method('stats.series'),
  };
  readonly daemon = { status: this.method('daemon.status'), ping: this.method('daemon.ping'), config: this.method('daemon.config') };
  readonly auth = { whoami: this.method('auth.whoami') };
  readonly token = { rotate: this.method('token.rotate') };
  /** The daemon's OpenRPC document: every method's params and result schemas, and the error codes. */
  readonly rpc = { discover: this.method('rpc.discover') };
  readonly events = {
    /** Starts pushed events (see on()); after a reconnect the client re-subscribes and asks for what it missed. */
    subscribe: async (params: ParamsOf<'events.subscribe'> = {}) => this.track(await this.call('events.subscribe', params)),
    unsubscribe: async (params: ParamsOf<'events.unsubscribe'> = {}) => this.track(await this.call('events.unsubscribe', params)),
  };

  constructor(options: ClientOptions = {}) {
    this.socketPath = options.socketPath ?? currentSocketPath();
    this.sendPid = options.sendPid ?? true;
    this.retryRateLimited = options.retryRateLimited ?? true;
    this.authenticate = options.authenticate ?? true;
    const onState = options.onConnectionState;
    this.conn = new Connection(
      this.socketPath,
      {
        onNotification: (method, params) => this.onNotification(method, params),
        onConnect: (again) => {
          if (!again) return;
          this.resubscribe();
          onState?.('connected');
        },
        onDisconnect: () => onState?.('disconnected'),
      },
      {
        timeoutMs: checkTimeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, 'timeoutMs'),
        connectTimeoutMs: checkTimeout(options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS, 'connectTimeoutMs'),
      },
    );
  }

  /**
   * Any contract method by name, typed by the Methods map. A mutating call
   * carries the tokens this client holds for its targets; when the daemon
   * cannot tell who is calling it proves it (auth.challenge) and asks again,
   * and when rate limited it waits the time it is told, once.
   */
  async call<M extends MethodName>(method: M, ...args: CallArgs<M>): Promise<ResultOf<M>> {
    const given = (args[0] ?? {}) as Record<string, unknown>;
    const params = MUTATING.has(method) ? this.tokens.attach(method, given) : given;
    if (method !== 'port.allocate') return this.request(method, params);
    // A port.allocate given up on is released if the daemon grants it later (late-grants.ts).
    const ticket = beginAllocation(this.socketPath, String(params.service));
    let handedOver = false;
    try {
      return await this.request(method, params, releaseLateGrant(ticket, params as AllocateParams));
    } catch (err) {
      // Its own timeout fired: the late answer's handler ends the ticket.
      if (err instanceof DaemonTimeoutError && err.method === method) handedOver = true;
      throw err;
    } finally {
      if (!handedOver) endAllocation(ticket);
    }
  }

  /** One call, proving who we are once if the daemon asks, and waiting out one rate-limit refusal. */
  private async request<M extends MethodName>(method: M, params: Record<string, unknown>, onLate?: LateAnswer): Promise<ResultOf<M>> {
    let proved = false;
    let waited = false;
    for (;;) {
      try {
        const result = (await this.conn.request(method, params, onLate)) as ResultOf<M>;
        if (MUTATING.has(method)) this.tokens.learn(method, params, result);
        return result;
      } catch (err) {
        if (!(err instanceof PortmandError)) throw err;
        if (err.code === ErrorCode.PermissionDenied && err.data?.challenge === true && this.authenticate && !proved) {
          proved = true;
          await this.prove();
          continue;
        }
        const wait = err.data?.retryAfterMs;
        if (
          err.code === ErrorCode.RateLimited &&
          this.retryRateLimited &&
          !waited &&
          typeof wait === 'number' &&
          wait >= 0 &&
          wait <= MAX_RETRY_WAIT_MS
        ) {
          waited = true;
          await new Promise((resolve) => setTimeout(resolve, wait));
          continue;
        }
        throw err;
      }
    }
  }

  /** The file challenge: the daemon writes a secret only our uid can read, and we show we read it. */
  private prove(): Promise<void> {
    this.proving ??= (async () => {
      const uid = process.getuid?.();
      if (uid === undefined)
        throw new PortmandError(ErrorCode.PermissionDenied, 'this platform has no uid to prove to the daemon', undefined, 'auth.challenge');
      const challenge = await this.conn.request('auth.challenge', { uid });
      const response = await answerChallenge(challenge as { file: string; nonce: string });
      await this.conn.request('auth.prove', { response });
    })().finally(() => (this.proving = null));
    return this.proving;
  }

  /** Listens for one event type, or '*' for all. Events flow only after events.subscribe(). */
  on<T extends EventType | '*'>(type: T, fn: EventListener<T>): this {
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    set.add(fn as (event: PortmandEvent) => void);
    return this;
  }

  off<T extends EventType | '*'>(type: T, fn: EventListener<T>): this {
    this.listeners.get(type)?.delete(fn as (event: PortmandEvent) => void);
    return this;
  }

  private async watchPort(name: string, fn: PortChangeListener): Promise<() => Promise<void>> {
    if (typeof name !== 'string' || name === '') throw new TypeError('onPortChange needs a service name');
    if (typeof fn !== 'function') throw new TypeError('onPortChange needs a callback function');
    this.portWatch.add(name, fn);
    try {
      await this.changePortSubscription(async () => {
        if (this.subscribed.includes('port_assigned')) return;
        await this.events.subscribe({ types: ['port_assigned'] });
        this.portSubscription = true;
      });
      this.portWatch.learn(name, await this.currentPort(name));
    } catch (err) {
      await this.unwatchPort(name, fn);
      throw err;
    }
    let active = true;
    return async () => {
      if (!active) return;
      active = false;
      await this.unwatchPort(name, fn);
    };
  }

  private async unwatchPort(name: string, fn: PortChangeListener): Promise<void> {
    if (!this.portWatch.remove(name, fn)) return;
    await this.changePortSubscription(async () => {
      // A watcher that came meanwhile still needs it.
      if (this.portWatch.size > 0 || !this.portSubscription) return;
      this.portSubscription = false;
      await this.events.unsubscribe({ types: ['port_assigned'] });
    });
  }

  private changePortSubscription(change: () => Promise<void>): Promise<void> {
    const step = this.portSubscribing.then(change);
    this.portSubscribing = step.catch(() => undefined);
    return step;
  }

  /** The service's port now, or undefined when it is not registered. */
  private async currentPort(name: string): Promise<number | undefined> {
    try {
      return (await this.call('service.get', { name })).port;
    } catch (err) {
      if (err instanceof PortmandError && err.code === ErrorCode.NotFound) return undefined;
      throw err;
    }
  }

  /** After a reconnect that missed events for good: each watched service's port, compared with the last one seen. */
  private async recheckPorts(): Promise<void> {
    for (const name of this.portWatch.names()) this.portWatch.learn(name, await this.currentPort(name));
  }

  /** Closes the connection; pending calls reject and the process is free to exit. */
  close(): void {
    this.conn.close();
  }

  private method<M extends MethodName>(method: M): MethodCall<M> {
    return (...args: CallArgs<M>) => this.call(method, ...args);
  }

  private withPid<P extends { pid?: number }>(params: P): P {
    return this.sendPid && params.pid === undefined ? { ...params, pid: process.pid } : params;
  }

  private track<R extends { subscribed: EventType[]; seq?: number }>(result: R): R {
    this.subscribed = result.subscribed;
    // Resume from here after a reconnect, even if no event has arrived yet.
    if (typeof result.seq === 'number') this.lastSeq = result.seq;
    this.conn.setPersistent(this.subscribed.length > 0);
    return result;
  }

  // sinceSeq is the daemon's extension: it replays what we missed while away.
  // A daemon without it may refuse the field, so retry once without it.
  private resubscribe(): void {
    if (this.subscribed.length === 0) return;
    const types = this.subscribed;
    const sinceSeq = this.lastSeq;
    this.call('events.subscribe', { types, sinceSeq })
      .catch((err: unknown) => {
        if (err instanceof PortmandError && err.code === ErrorCode.InvalidParams)
          return this.call('events.subscribe', { types }).then((r) => ({ ...r, gap: true }));
        throw err;
      })
      .then((r) => {
        this.track(r);
        // What the daemon could not replay is lost as events; the watched ports are asked for instead.
        if (r.gap === true || sinceSeq === undefined) return this.recheckPorts();
      })
      .catch(() => {}); // a dropped socket retries on its own
  }

  private onNotification(method: string, params: unknown): void {
    if (method !== EVENT_METHOD || !params || typeof params !== 'object') return;
    const event = params as PortmandEvent;
    // The latest, not the largest: a restarted daemon may count from 1 again.
    if (typeof event.seq === 'number') this.lastSeq = event.seq;
    if (event.type === 'port_assigned' && this.portWatch.size > 0)
      this.portWatch.onAssigned(event.data as PortmandEvent<'port_assigned'>['data']);
    for (const key of [event.type, '*'] as const) {
      for (const fn of this.listeners.get(key) ?? []) callListener(fn, event);
    }
  }
}

function checkTimeout(ms: number, name: string): number {
  // setTimeout fires at once beyond 2^31-1 ms; past that, wait forever.
  if (ms === Infinity) return 0;
  if (typeof ms !== 'number' || !(ms >= 0))
    throw new RangeError(`${name} must be a number of milliseconds >= 0 (0: no limit), got ${String(ms)}`);
  return ms > 2 ** 31 - 1 ? 0 : ms;
}

// One listener that throws must not starve the others; its error still
// surfaces as an uncaught exception, as with an EventEmitter.
function callListener(fn: (event: PortmandEvent) => void, event: PortmandEvent): void {
  try {
    fn(event);
  } catch (err) {
    queueMicrotask(() => {
      throw err;
    });
  }
}

export interface GetPortOptions {
  /**
   * As in get-port: a port, or an iterable of ports (a preference list, e.g.
   * portNumbers(3000, 3100)), tried in order; each is granted exactly or
   * skipped. When none is free, the daemon chooses (with `range`, `preferred`).
   */
  port?: number | Iterable<number>;
  /** As in get-port: ports never to return. */
  exclude?: Iterable<number>;
  /** A configured range name or "START-END". */
  range?: string;
  /** A port the daemon tries first when it chooses; unlike `port`, it is a hint within the range. */
  preferred?: number;
  /** A lease: the port returns to the pool after this many seconds. */
  ttlSec?: number;
  protocol?: Protocol;
  host?: string;
  socketPath?: string;
  /** How long to wait for the daemon's answer (default 60000; 0 waits forever). */
  timeoutMs?: number;
}

/**
 * get-port with a name: allocates a port for `serviceName` through the
 * daemon, which guarantees that concurrent callers never get the same port
 * and that the same service gets its port back while it holds it. Takes
 * get-port's `port` and `exclude` (for the nameless drop-in, see
 * `portmand/get-port`).
 */
export async function getPort(serviceName: string, opts: GetPortOptions = {}): Promise<number> {
  const { socketPath, timeoutMs, port, exclude, ...rest } = opts;
  const preferred = preferredPorts(port);
  const excluded = excludedPorts(exclude);
  const pm = new PortmandClient({ socketPath, timeoutMs });
  try {
    return await allocatePreferred((p) => pm.port.allocate(p), { service: serviceName, ...rest }, preferred, excluded);
  } finally {
    pm.close();
  }
}
