// A port.allocate that timed out on the client side, then granted by the
// daemon after all: the client releases the grant on the same connection,
// unless it created nothing or this process asked for the service again.
// The daemon is a fake server socket here, so the test decides when (and
// whether) each answer comes.
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DaemonTimeoutError, getPort, PortmandClient } from '../../client/client.ts';

interface Request {
  id: number;
  method: string;
  params: Record<string, unknown>;
}

/** A fake daemon: each request is handed to the test, which answers when it likes. */
class FakeDaemon {
  readonly requests: Request[] = [];
  readonly socketPath: string;
  #server: net.Server;
  #waiters: Array<{ match: (r: Request) => boolean; resolve: (r: Request) => void }> = [];
  #clients: net.Socket[] = [];
  /** The connection each request came on: its answer goes back there. */
  #from = new Map<Request, net.Socket>();
  #closed: Array<Promise<void>> = [];

  constructor(readonly dir: string) {
    this.socketPath = path.join(dir, 'fake.sock');
    this.#server = net.createServer((socket) => {
      this.#clients.push(socket);
      this.#closed.push(new Promise((resolve) => socket.once('close', () => resolve())));
      let buf = '';
      socket.on('data', (chunk) => {
        buf += chunk.toString();
        for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
          const req = JSON.parse(buf.slice(0, i)) as Request;
          buf = buf.slice(i + 1);
          this.#from.set(req, socket);
          this.requests.push(req);
          for (const w of [...this.#waiters]) if (w.match(req)) (this.#waiters.splice(this.#waiters.indexOf(w), 1), w.resolve(req));
        }
      });
      socket.on('error', () => undefined);
    });
  }

  listen(): Promise<void> {
    return new Promise((resolve) => this.#server.listen(this.socketPath, resolve));
  }

  next(method: string): Promise<Request> {
    const seen = this.requests.find((r) => r.method === method && !this.#taken.has(r));
    if (seen) return Promise.resolve(this.#take(seen));
    return new Promise((resolve) =>
      this.#waiters.push({ match: (r) => r.method === method && !this.#taken.has(r), resolve: (r) => resolve(this.#take(r)) }),
    );
  }

  #taken = new Set<Request>();
  #take(r: Request): Request {
    this.#taken.add(r);
    return r;
  }

  /** Sends an error with id null (a refusal) on the first connection, and closes it. */
  refuse(error: object): void {
    this.#clients[0]!.end(`${JSON.stringify({ jsonrpc: '2.0', id: null, error })}\n`);
  }

  /** Answers on the connection the request came on. */
  answer(req: Request, result: unknown): void {
    this.#from.get(req)!.write(`${JSON.stringify({ jsonrpc: '2.0', id: req.id, result })}\n`);
  }

  /** Pushes an event on the connection `req` came on. */
  notify(req: Request, event: object): void {
    this.#from.get(req)!.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'event', params: event })}\n`);
  }

  /** Resolves with what comes first: a request for `method`, or every client connection closed. */
  nextOrClosed(method: string): Promise<Request | 'closed'> {
    return Promise.race([this.next(method), Promise.all(this.#closed).then(() => 'closed' as const)]);
  }

  allClosed(): Promise<void> {
    return Promise.all(this.#closed).then(() => undefined);
  }

  close(): Promise<void> {
    for (const c of this.#clients) c.destroy();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

let fake: FakeDaemon;
beforeEach(async () => {
  fake = new FakeDaemon(mkdtempSync(path.join(os.tmpdir(), 'pm-late-')));
  await fake.listen();
});
afterEach(async () => {
  await fake.close();
  rmSync(fake.dir, { recursive: true, force: true });
});

describe('a port.allocate granted after the caller gave up', () => {
  it('getPort() releases it, with the token the grant carried, on the same connection, then closes', async () => {
    const gave = getPort('late-web', { socketPath: fake.socketPath, timeoutMs: 50 }).catch((err: unknown) => err);
    const allocate = await fake.next('port.allocate');
    expect(await gave).toBeInstanceOf(DaemonTimeoutError);
    // The daemon gets to it only now, and grants a new lease.
    fake.answer(allocate, { port: 45001, service: 'late-web', token: 'pmt_late' });
    const release = await fake.nextOrClosed('port.release');
    expect(release).not.toBe('closed');
    expect((release as Request).params).toEqual({ port: 45001, protocol: 'tcp', service: 'late-web', token: 'pmt_late' });
    fake.answer(release as Request, { port: 45001, released: true, unregistered: ['late-web'] });
    await fake.allClosed();
  });

  it('keeps a grant that created nothing (no token: the service held the port before the call)', async () => {
    const gave = getPort('held-web', { socketPath: fake.socketPath, timeoutMs: 50 }).catch((err: unknown) => err);
    const allocate = await fake.next('port.allocate');
    expect(await gave).toBeInstanceOf(DaemonTimeoutError);
    fake.answer(allocate, { port: 45002, service: 'held-web' });
    await fake.allClosed();
    expect(fake.requests.map((r) => r.method)).toEqual(['port.allocate']);
  });

  it('keeps a grant when this process asked for the same service again since: that call may have been given the port', async () => {
    const pm = new PortmandClient({ socketPath: fake.socketPath, timeoutMs: 50 });
    const first = pm.port.allocate({ service: 'again-web' }).catch((err: unknown) => err);
    const a1 = await fake.next('port.allocate');
    expect(await first).toBeInstanceOf(DaemonTimeoutError);
    const patient = new PortmandClient({ socketPath: fake.socketPath, timeoutMs: 0 });
    const second = patient.port.allocate({ service: 'again-web' }).catch((err: unknown) => err);
    await fake.next('port.allocate');
    // The daemon ran them in order: the first created the lease, the second would be given the same port.
    fake.answer(a1, { port: 45003, service: 'again-web', token: 'pmt_first' });
    // close() waits for the late answer and its handler before it ends the connection.
    pm.close();
    patient.close();
    await second;
    await fake.allClosed();
    expect(fake.requests.map((r) => r.method)).toEqual(['port.allocate', 'port.allocate']);
  });

  it('keeps a grant when another call for the service was already in flight: the daemon may have run that one second, and given it the port', async () => {
    const patient = new PortmandClient({ socketPath: fake.socketPath, timeoutMs: 0 });
    const first = patient.port.allocate({ service: 'overlap-web' });
    const a1 = await fake.next('port.allocate');
    const pm = new PortmandClient({ socketPath: fake.socketPath, timeoutMs: 50 });
    const second = pm.port.allocate({ service: 'overlap-web' }).catch((err: unknown) => err);
    const a2 = await fake.next('port.allocate');
    expect(await second).toBeInstanceOf(DaemonTimeoutError);
    // The calls came on two connections, and the daemon ran the second first: it created the lease the first is then given.
    fake.answer(a2, { port: 45004, service: 'overlap-web', token: 'pmt_second' });
    fake.answer(a1, { port: 45004, service: 'overlap-web' });
    expect(await first).toMatchObject({ port: 45004 });
    pm.close();
    patient.close();
    await fake.allClosed();
    expect(fake.requests.map((r) => r.method)).toEqual(['port.allocate', 'port.allocate']);
  });

  it('close() while subscribed to events: events pushed while it waits for a late answer reach no listener and do not keep the process alive', async () => {
    const pm = new PortmandClient({ socketPath: fake.socketPath, timeoutMs: 50 });
    const seen: unknown[] = [];
    pm.on('*', (e) => seen.push(e));
    const subscribed = pm.events.subscribe({ types: ['port_assigned'] });
    fake.answer(await fake.next('events.subscribe'), { subscribed: ['port_assigned'], seq: 0 });
    await subscribed;
    const call = pm.port.allocate({ service: 'sub-web' }).catch((err: unknown) => err);
    const allocate = await fake.next('port.allocate');
    expect(await call).toBeInstanceOf(DaemonTimeoutError);
    pm.close();
    // The socket stays open for the late answer (unref'd); an event comes first.
    const socket = (pm as unknown as { conn: { socket: net.Socket & { _handle: { hasRef(): boolean } } } }).conn.socket;
    const read = new Promise((resolve) => socket.once('data', resolve));
    fake.notify(allocate, { type: 'port_assigned', seq: 1, timestamp: new Date(0).toISOString(), data: { service: 'other', port: 45006 } });
    await read;
    expect(seen).toEqual([]);
    expect(socket._handle.hasRef()).toBe(false);
    // No token: nothing to release, and the socket goes.
    fake.answer(allocate, { port: 45005, service: 'sub-web' });
    await fake.allClosed();
  });

  it('never sends a call whose timeout fired while it was still connecting', async () => {
    // Nothing is sent, so nothing can be granted: a daemon that accepts late finds no request.
    const pm = new PortmandClient({ socketPath: fake.socketPath, timeoutMs: 1 });
    const call = pm.port.allocate({ service: 'unsent' }).catch((err: unknown) => err);
    // Hold the event loop past the 1 ms timeout: its timer runs before the connect's completion is read.
    for (const until = Date.now() + 20; Date.now() < until;);
    expect(await call).toBeInstanceOf(DaemonTimeoutError);
    // A later call on the connection is sent (it is up now); the first, had it gone, would have arrived before it.
    const ping = pm.daemon.ping().catch((err: unknown) => err);
    await fake.next('daemon.ping');
    expect(fake.requests.map((r) => r.method)).toEqual(['daemon.ping']);
    pm.close();
    await ping;
  });
});

describe('a connection the daemon refuses', () => {
  it('fails its pending calls with the error the daemon sent (id null), not a bare "closed"', async () => {
    const pm = new PortmandClient({ socketPath: fake.socketPath, retryRateLimited: false });
    const call = pm.port.allocate({ service: 'refused' }).catch((err: unknown) => err);
    await fake.next('port.allocate');
    fake.refuse({
      code: -32005,
      message: 'too many connections: nobody already holds 2',
      data: { limit: 'maxConnectionsPerUser', max: 2 },
    });
    expect(await call).toMatchObject({
      code: -32005,
      message: 'too many connections: nobody already holds 2',
      data: { limit: 'maxConnectionsPerUser' },
    });
    pm.close();
  });
});
