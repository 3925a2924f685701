// The client library against a small in-test JSON-RPC peer on a real Unix
// socket: framing, pipelining, errors, reconnect and re-subscribe, pid.
import { spawn } from 'node:child_process';
import { writeFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ConnectionError,
  DaemonTimeoutError,
  DaemonUnavailableError,
  getPort,
  PortmandClient,
  PortmandError,
  type PortmandEvent,
} from '../client/client.ts';
import { defaultSocketPath, defaultStateDir, type PathContext } from '../client/paths.ts';

/** A queue whose next() waits for the next push: lets tests await instead of sleeping. */
class Inbox<T> {
  private items: T[] = [];
  private waiters: Array<(item: T) => void> = [];
  push(item: T): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter(item);
    else this.items.push(item);
  }
  next(): Promise<T> {
    const item = this.items.shift();
    return item !== undefined ? Promise.resolve(item) : new Promise((resolve) => this.waiters.push(resolve));
  }
}

interface Request {
  msg: { jsonrpc: string; id: number; method: string; params: Record<string, unknown> };
  socket: net.Socket;
}

const send = (socket: net.Socket, body: object) => socket.write(`${JSON.stringify(body)}\n`);
const reply = (r: Request, result: unknown) => send(r.socket, { jsonrpc: '2.0', id: r.msg.id, result });

interface Peer {
  next(): Promise<Request>;
  closed: Inbox<net.Socket>;
  stop(): Promise<void>;
}

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

let counter = 0;
function socketPath(): string {
  return path.join(os.tmpdir(), `pmc-${process.pid}-${counter++}.sock`);
}

/** An NDJSON JSON-RPC peer that hands every request to the test. */
async function startPeer(file: string): Promise<Peer> {
  const inbox = new Inbox<Request>();
  const closed = new Inbox<net.Socket>();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => (sockets.delete(socket), closed.push(socket)));
    socket.setEncoding('utf8');
    let buffer = '';
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      let i: number;
      while ((i = buffer.indexOf('\n')) >= 0) {
        inbox.push({ msg: JSON.parse(buffer.slice(0, i)), socket });
        buffer = buffer.slice(i + 1);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(file, resolve));
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  cleanups.push(stop);
  return { next: () => inbox.next(), closed, stop };
}

function client(file: string, options: ConstructorParameters<typeof PortmandClient>[0] = {}): PortmandClient {
  const pm = new PortmandClient({ socketPath: file, ...options });
  cleanups.push(() => pm.close());
  return pm;
}

describe('PortmandClient requests', () => {
  it('pipelines requests on one connection and matches out-of-order answers by id', async () => {
    const file = socketPath();
    const peer = await startPeer(file);
    const pm = client(file);
    const calls = [1001, 1002, 1003].map((port) => pm.port.check({ port }));
    const reqs = [await peer.next(), await peer.next(), await peer.next()];
    expect(new Set(reqs.map((r) => r.socket)).size).toBe(1);
    expect(reqs.map((r) => [r.msg.jsonrpc, r.msg.method, r.msg.params.port])).toEqual([
      ['2.0', 'port.check', 1001],
      ['2.0', 'port.check', 1002],
      ['2.0', 'port.check', 1003],
    ]);
    for (const r of [...reqs].reverse()) reply(r, { port: r.msg.params.port, available: r.msg.params.port !== 1002 });
    const results = await Promise.all(calls);
    expect(results.map((r) => [r.port, r.available])).toEqual([
      [1001, true],
      [1002, false],
      [1003, true],
    ]);
  });

  it('reads answers that arrive several to a write or split mid-character', async () => {
    const file = socketPath();
    const peer = await startPeer(file);
    const pm = client(file);
    const a = pm.daemon.ping();
    const b = pm.port.check({ port: 80 });
    const ra = await peer.next();
    const rb = await peer.next();
    const line1 = JSON.stringify({ jsonrpc: '2.0', id: ra.msg.id, result: 'pong' });
    const line2 = JSON.stringify({ jsonrpc: '2.0', id: rb.msg.id, result: { port: 80, available: false, reason: 'gehört 🚀 httpd' } });
    const bytes = Buffer.from(`${line1}\n${line2}\n`);
    const cut = bytes.indexOf(Buffer.from('🚀')) + 2;
    ra.socket.write(bytes.subarray(0, cut));
    ra.socket.write(bytes.subarray(cut));
    expect(await a).toBe('pong');
    expect((await b).reason).toBe('gehört 🚀 httpd');
  });

  it('rejects a daemon error with PortmandError carrying code and data', async () => {
    const file = socketPath();
    const peer = await startPeer(file);
    const pm = client(file);
    const call = pm.port.allocate({ service: 'web', preferred: 8080 });
    const r = await peer.next();
    const data = { port: 8080, reason: 'listened on', heldBy: { pid: 42, process: 'nginx' } };
    send(r.socket, { jsonrpc: '2.0', id: r.msg.id, error: { code: -32002, message: 'port 8080 is unavailable', data } });
    const err = await call.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PortmandError);
    expect(err).toMatchObject({ code: -32002, message: 'port 8080 is unavailable', data });
  });

  it('says the daemon is not running, naming the socket, when nothing listens', async () => {
    const file = socketPath();
    const err = await client(file)
      .daemon.ping()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DaemonUnavailableError);
    expect((err as Error).message).toContain(file);
    expect((err as Error).message).toContain('portmand daemon');
  });

  it('treats a stale socket file with no listener as a daemon that is not running', async () => {
    const file = socketPath();
    writeFileSync(file, '');
    cleanups.push(() => rmSync(file, { force: true }));
    await expect(client(file).daemon.ping()).rejects.toBeInstanceOf(DaemonUnavailableError);
  });

  it('rejects pending calls when the connection drops, and reconnects on the next call', async () => {
    const file = socketPath();
    const peer = await startPeer(file);
    const pm = client(file);
    const first = pm.daemon.ping();
    (await peer.next()).socket.destroy();
    const err = await first.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect(err).not.toBeInstanceOf(DaemonUnavailableError);
    const second = pm.daemon.ping();
    reply(await peer.next(), 'pong');
    expect(await second).toBe('pong');
  });

  it('rejects pending and later calls after close()', async () => {
    const file = socketPath();
    const peer = await startPeer(file);
    const pm = client(file);
    const pending = pm.daemon.ping();
    await peer.next();
    pm.close();
    await expect(pending).rejects.toBeInstanceOf(ConnectionError);
    await expect(pm.daemon.ping()).rejects.toBeInstanceOf(ConnectionError);
  });
});

describe('timeouts', () => {
  // The peer accepts the connection and reads every request, but answers none unless told to.
  it('rejects a call the daemon never answers with DaemonTimeoutError saying what to do', async () => {
    const file = socketPath();
    const peer = await startPeer(file);
    const pm = client(file, { timeoutMs: 200 });
    const err = await pm.daemon.ping().catch((e: unknown) => e);
    expect((await peer.next()).msg.method).toBe('daemon.ping');
    expect(err).toBeInstanceOf(DaemonTimeoutError);
    expect(err).toBeInstanceOf(ConnectionError); // so the CLI exits 3
    expect(err).toMatchObject({ method: 'daemon.ping', timeoutMs: 200, socketPath: file });
    const message = (err as Error).message;
    expect(message).toContain(file);
    expect(message).toContain('did not answer daemon.ping within 0.2 s');
    expect(message).toMatch(/restart it/);
    expect(message).toContain('timeoutMs');
  });

  it('keeps the connection after a timeout: a late answer is ignored and the next call is answered', async () => {
    const file = socketPath();
    const peer = await startPeer(file);
    const pm = client(file, { timeoutMs: 200 });
    await expect(pm.daemon.ping()).rejects.toBeInstanceOf(DaemonTimeoutError);
    const late = await peer.next();
    const next = pm.port.check({ port: 80 });
    const r = await peer.next();
    reply(late, 'too late');
    reply(r, { port: 80, available: true });
    expect(await next).toEqual({ port: 80, available: true });
    expect(r.socket).toBe(late.socket);
  });

  it('getPort takes timeoutMs', async () => {
    const file = socketPath();
    const peer = await startPeer(file);
    const err = await getPort('web', { socketPath: file, timeoutMs: 200 }).catch((e: unknown) => e);
    expect((await peer.next()).msg.method).toBe('port.allocate');
    expect(err).toBeInstanceOf(DaemonTimeoutError);
  });

  it('refuses a negative timeout', () => {
    expect(() => new PortmandClient({ socketPath: socketPath(), timeoutMs: -1 })).toThrow(/timeoutMs must be/);
  });
});

describe('pid', () => {
  it('adds its own pid to service.register and port.allocate unless given or disabled', async () => {
    const file = socketPath();
    const peer = await startPeer(file);
    const auto = client(file);
    const calls = [
      auto.service.register({ name: 'web', port: 3000 }),
      auto.port.allocate({ service: 'api' }),
      auto.service.register({ name: 'db', pid: 1234 }),
      client(file, { sendPid: false }).port.allocate({ service: 'cli' }),
    ];
    const pids: Record<string, unknown> = {};
    for (let i = 0; i < calls.length; i++) {
      const r = await peer.next();
      pids[String(r.msg.params.name ?? r.msg.params.service)] = r.msg.params.pid;
      reply(r, { port: 1, service: 'x' });
    }
    await Promise.all(calls);
    expect(pids).toEqual({ web: process.pid, api: process.pid, db: 1234, cli: undefined });
  });
});

describe('events', () => {
  const event = (seq: number, type: string, data: object) => ({
    jsonrpc: '2.0',
    method: 'event',
    params: { type, seq, time: new Date(0).toISOString(), data },
  });

  it('delivers pushed events by type and re-subscribes with sinceSeq after the daemon restarts', async () => {
    const file = socketPath();
    const peer1 = await startPeer(file);
    const states = new Inbox<string>();
    const pm = client(file, { onConnectionState: (s) => states.push(s) });
    const all = new Inbox<PortmandEvent>();
    const assigned: number[] = [];
    pm.on('*', (e) => all.push(e));
    pm.on('port_assigned', (e) => assigned.push(e.data.port));

    const subscribing = pm.events.subscribe({ types: ['port_assigned', 'conflict_detected'] });
    const sub = await peer1.next();
    expect(sub.msg).toMatchObject({ method: 'events.subscribe', params: { types: ['port_assigned', 'conflict_detected'] } });
    reply(sub, { subscribed: ['port_assigned', 'conflict_detected'] });
    await subscribing;
    send(sub.socket, event(41, 'port_assigned', { service: 'web', port: 3001 }));
    send(sub.socket, event(42, 'conflict_detected', { id: 'c1' }));
    expect([(await all.next()).seq, (await all.next()).seq]).toEqual([41, 42]);

    await peer1.stop();
    expect(await states.next()).toBe('disconnected');
    const peer2 = await startPeer(file);
    const resub = await peer2.next();
    expect(resub.msg).toMatchObject({
      method: 'events.subscribe',
      params: { types: ['port_assigned', 'conflict_detected'], sinceSeq: 42 },
    });
    expect(await states.next()).toBe('connected');
    reply(resub, { subscribed: ['port_assigned', 'conflict_detected'] });
    send(resub.socket, event(43, 'port_assigned', { service: 'api', port: 3002 }));
    expect((await all.next()).seq).toBe(43);
    expect(assigned).toEqual([3001, 3002]);
  });

  it('resumes from the seq the subscribe reply gave, even when no event arrived before the daemon went away', async () => {
    const file = socketPath();
    const peer1 = await startPeer(file);
    const pm = client(file);
    const subscribing = pm.events.subscribe({ types: ['port_released'] });
    reply(await peer1.next(), { subscribed: ['port_released'], seq: 17 });
    await subscribing;
    await peer1.stop();
    const peer2 = await startPeer(file);
    expect((await peer2.next()).msg.params).toEqual({ types: ['port_released'], sinceSeq: 17 });
  });

  it('stops listening with off()', async () => {
    const file = socketPath();
    const peer = await startPeer(file);
    const pm = client(file);
    const got: number[] = [];
    const all = new Inbox<PortmandEvent>();
    const fn = (e: PortmandEvent<'port_released'>) => got.push(e.data.port);
    pm.on('port_released', fn).on('*', (e) => all.push(e));
    const subscribing = pm.events.subscribe();
    const sub = await peer.next();
    reply(sub, { subscribed: ['port_released'] });
    await subscribing;
    send(sub.socket, event(1, 'port_released', { port: 5000 }));
    await all.next();
    pm.off('port_released', fn);
    send(sub.socket, event(2, 'port_released', { port: 5001 }));
    await all.next();
    expect(got).toEqual([5000]);
  });
});

describe('getPort', () => {
  it('allocates through the daemon for the named service, resolves to the port and closes', async () => {
    const file = socketPath();
    const peer = await startPeer(file);
    const port = getPort('api', { preferred: 4000, range: 'dev', socketPath: file });
    const r = await peer.next();
    expect(r.msg).toMatchObject({ method: 'port.allocate', params: { service: 'api', preferred: 4000, range: 'dev', pid: process.pid } });
    reply(r, { port: 4000, service: 'api' });
    expect(await port).toBe(4000);
    expect(await peer.closed.next()).toBe(r.socket);
  });
});

describe('process lifetime', () => {
  // A child process that uses the client (the compiled library, as a script would); it must exit on its own.
  function runChild(script: string, file: string): Promise<{ code: number | null; stdout: string }> {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, file], {
      cwd: path.resolve(import.meta.dirname, '..'),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout })));
  }

  async function answerAll(peer: Peer): Promise<void> {
    for (;;) {
      const r = await peer.next();
      reply(r, r.msg.method === 'events.subscribe' ? { subscribed: ['port_assigned'] } : 'pong');
    }
  }

  it('lets a script exit after a call without close()', async () => {
    const file = socketPath();
    const peer = await startPeer(file);
    void answerAll(peer);
    const script = `import { PortmandClient } from './dist/client/client.js';
      const pm = new PortmandClient({ socketPath: process.argv[1] });
      console.log(await pm.daemon.ping());`;
    expect(await runChild(script, file)).toEqual({ code: 0, stdout: 'pong\n' });
  });

  it('lets a script exit after close() even with a subscription', async () => {
    const file = socketPath();
    const peer = await startPeer(file);
    void answerAll(peer);
    const script = `import { PortmandClient } from './dist/client/client.js';
      const pm = new PortmandClient({ socketPath: process.argv[1] });
      pm.on('*', () => {});
      await pm.events.subscribe();
      console.log(await pm.daemon.ping());
      pm.close();`;
    expect(await runChild(script, file)).toEqual({ code: 0, stdout: 'pong\n' });
  });
});

describe('socket and state paths', () => {
  const linux: PathContext = { platform: 'linux', uid: 1000, home: '/home/ann' };
  const mac: PathContext = { platform: 'darwin', uid: 501, home: '/Users/ann' };
  const root: PathContext = { platform: 'linux', uid: 0, home: '/root' };
  const cases: Array<[string, Record<string, string>, PathContext, string, string]> = [
    ['explicit', { PORTMAND_SOCKET: '/tmp/p.sock', PORTMAND_STATE_DIR: '/tmp/st' }, linux, '/tmp/p.sock', '/tmp/st'],
    ['root', { XDG_RUNTIME_DIR: '/run/user/0' }, root, '/run/portmand/portmand.sock', '/var/lib/portmand'],
    [
      'linux user',
      { XDG_RUNTIME_DIR: '/run/user/1000/' },
      linux,
      '/run/user/1000/portmand/portmand.sock',
      '/home/ann/.local/state/portmand',
    ],
    [
      'linux XDG_STATE_HOME',
      { XDG_RUNTIME_DIR: '/run/user/1000', XDG_STATE_HOME: '/data/st' },
      linux,
      '/run/user/1000/portmand/portmand.sock',
      '/data/st/portmand',
    ],
    ['linux, no runtime dir', {}, linux, '/home/ann/.local/state/portmand/portmand.sock', '/home/ann/.local/state/portmand'],
    [
      'relative XDG paths are ignored',
      { XDG_RUNTIME_DIR: 'run', XDG_STATE_HOME: 'st' },
      linux,
      '/home/ann/.local/state/portmand/portmand.sock',
      '/home/ann/.local/state/portmand',
    ],
    [
      'empty overrides are unset',
      { PORTMAND_SOCKET: '', PORTMAND_STATE_DIR: '' },
      linux,
      '/home/ann/.local/state/portmand/portmand.sock',
      '/home/ann/.local/state/portmand',
    ],
    ['macOS', {}, mac, '/Users/ann/Library/Application Support/portmand/portmand.sock', '/Users/ann/Library/Application Support/portmand'],
    [
      'macOS with XDG',
      { XDG_RUNTIME_DIR: '/tmp/rt', XDG_STATE_HOME: '/Users/ann/.st' },
      mac,
      '/tmp/rt/portmand/portmand.sock',
      '/Users/ann/.st/portmand',
    ],
  ];
  it.each(cases)('%s', (_name, env, ctx, socket, state) => {
    expect(defaultSocketPath(env, ctx)).toBe(socket);
    expect(defaultStateDir(env, ctx)).toBe(state);
  });
});
