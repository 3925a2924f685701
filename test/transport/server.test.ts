import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MAX_LINE_BYTES } from '../../client/protocol.ts';
import { createJsonRpc } from '../../daemon/transport/jsonrpc.ts';
import type { SocketConnection } from '../../daemon/transport/connection.ts';
import {
  SocketInUseError,
  SocketPathError,
  startServer,
  type Connection,
  type RunningServer,
  type ServerOptions,
} from '../../daemon/transport/server.ts';

let dir: string;
let sock: string;
const running: RunningServer[] = [];
const clients: net.Socket[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-'));
  sock = path.join(dir, 's.sock');
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await Promise.all(running.splice(0).map((s) => s.close()));
  fs.rmSync(dir, { recursive: true, force: true });
});

function makeLog() {
  return { info: vi.fn(), warn: vi.fn(), error: vi.fn() };
}

/** A server speaking real JSON-RPC with a gate: `wait` answers only after `open` is called. */
async function start(extra: Partial<ServerOptions> = {}) {
  let openGate!: () => void;
  const gate = new Promise<void>((resolve) => (openGate = resolve));
  const log = makeLog();
  const rpc = createJsonRpc<Connection>({
    log,
    methods: {
      ping: () => 'pong',
      whoami: (_p, conn) => conn.id,
      wait: async () => {
        await gate;
        return 'waited';
      },
      open: () => openGate(),
      big: () => 'b'.repeat(300 * 1024),
    },
  });
  const server = await startServer({ socketPath: sock, log, handleLine: (line, conn) => rpc.handleLine(line, conn), ...extra });
  running.push(server);
  return { server, log };
}

/** A raw NDJSON client: `next()` resolves to the next parsed line from the server. */
async function connect(socketPath = sock) {
  const socket = net.connect(socketPath);
  clients.push(socket);
  socket.on('error', () => {});
  await once(socket, 'connect');
  const lines: unknown[] = [];
  const waiters: Array<(v: unknown) => void> = [];
  let buf = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) !== -1) {
      const msg = JSON.parse(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
      const w = waiters.shift();
      if (w) w(msg);
      else lines.push(msg);
    }
  });
  const closed = once(socket, 'close');
  return {
    socket,
    closed,
    write: (data: string) => socket.write(data),
    call: (id: number, method: string) => socket.write(`${JSON.stringify({ jsonrpc: '2.0', id, method })}\n`),
    next: () => (lines.length > 0 ? Promise.resolve(lines.shift()) : new Promise((r) => waiters.push(r))),
  };
}

const pong = (id: number) => ({ jsonrpc: '2.0', id, result: 'pong' });

describe('framing', () => {
  it('answers pipelined requests as they finish, not in order', async () => {
    await start();
    const c = await connect();
    c.call(1, 'wait');
    c.call(2, 'ping');
    c.call(3, 'open');
    expect(await c.next()).toStrictEqual(pong(2));
    expect(await c.next()).toStrictEqual({ jsonrpc: '2.0', id: 3, result: null });
    expect(await c.next()).toStrictEqual({ jsonrpc: '2.0', id: 1, result: 'waited' });
  });

  it('joins a line split across writes and tolerates \\r\\n', async () => {
    await start();
    const c = await connect();
    c.write('{"jsonrpc":"2.0","id":1,');
    c.write('"method":"ping"}\r\n\n{"jsonrpc":"2.0","id":2,"method":"ping"}\n');
    expect(await c.next()).toStrictEqual(pong(1));
    expect(await c.next()).toStrictEqual(pong(2));
  });

  it('a line that is not JSON gets -32700 and the connection stays usable', async () => {
    await start();
    const c = await connect();
    c.write('this is not json\n');
    expect(await c.next()).toMatchObject({ id: null, error: { code: -32700 } });
    c.call(5, 'ping');
    expect(await c.next()).toStrictEqual(pong(5));
  });

  it('accepts a line of exactly the limit', async () => {
    await start();
    const c = await connect();
    const req = '{"jsonrpc":"2.0","id":1,"method":"ping"}';
    c.write(req + ' '.repeat(MAX_LINE_BYTES - req.length) + '\n');
    expect(await c.next()).toStrictEqual(pong(1));
  });

  it.each([
    ['a terminated line', '\n'],
    ['an unterminated buffer', ''],
  ])('%s over 1 MiB gets -32600 and the connection is closed', async (_name, end) => {
    const { log } = await start();
    const c = await connect();
    c.write('x'.repeat(MAX_LINE_BYTES + 1) + end);
    expect(await c.next()).toMatchObject({
      jsonrpc: '2.0',
      id: null,
      error: { code: -32600, message: expect.stringContaining(String(MAX_LINE_BYTES)) },
    });
    await c.closed;
    expect(log.warn).toHaveBeenCalled();
    const other = await connect();
    other.call(1, 'ping');
    expect(await other.next()).toStrictEqual(pong(1));
  });
});

describe('connections', () => {
  it('serves many concurrent connections, each with its own identity', async () => {
    const { server } = await start();
    const cs = await Promise.all(Array.from({ length: 50 }, () => connect()));
    cs.forEach((c, i) => c.call(i, 'whoami'));
    const ids = await Promise.all(cs.map(async (c) => ((await c.next()) as { result: number }).result));
    expect(new Set(ids).size).toBe(50);
    expect([...server.connections()]).toHaveLength(50);
  });

  it('drops a client that does not read once its queue overflows, and keeps serving others', async () => {
    const onClose = vi.fn();
    const { server, log } = await start({ maxQueuedBytes: 64 * 1024, onClose });
    const slow = await connect();
    slow.call(1, 'whoami');
    const slowId = ((await slow.next()) as { result: number }).result;
    slow.socket.pause();
    const healthy = await connect();
    const slowConn = [...server.connections()].find((c) => c.id === slowId)!;
    const payload = 'y'.repeat(32 * 1024);
    for (let i = 0; i < 200 && !slowConn.closed; i++) slowConn.notify('event', { payload });
    expect(slowConn.closed).toBe(true);
    await vi.waitUntil(() => onClose.mock.calls.some(([c]) => c === slowConn));
    expect(log.warn).toHaveBeenCalledWith(expect.objectContaining({ conn: slowConn.id }), expect.stringContaining('slow'));
    healthy.call(1, 'ping');
    expect(await healthy.next()).toStrictEqual(pong(1));
  });

  it('keeps what a subscriber that does not read costs within the limit, then drops it', async () => {
    const limit = 256 * 1024;
    const { server, log } = await start({ maxQueuedBytes: limit });
    const slow = await connect();
    slow.call(1, 'whoami');
    const slowId = ((await slow.next()) as { result: number }).result;
    slow.socket.pause();
    const conn = [...server.connections()].find((c) => c.id === slowId) as SocketConnection;
    const payload = 'e'.repeat(8 * 1024);
    let sent = 0;
    while (!conn.closed && sent < 10_000) {
      conn.notify('event', { seq: sent++, payload });
      // Our queue and the socket's own buffer together: all the daemon holds for this client.
      if (!conn.closed) expect(conn.unreadBytes).toBeLessThanOrEqual(limit);
    }
    expect(conn.closed).toBe(true);
    // More was sent than the limit and the kernel's buffer hold, so the limit, not luck, ended it.
    expect(sent * payload.length).toBeGreaterThan(limit);
    expect(log.warn).toHaveBeenCalledWith(
      expect.objectContaining({ conn: slowId }),
      expect.stringContaining('unread events passed the limit'),
    );
  });

  it('sends answers past the limit to a client that reads them, pipelined', async () => {
    const { log } = await start({ maxQueuedBytes: 64 * 1024, stallMs: 60_000 });
    const c = await connect();
    for (let id = 1; id <= 8; id++) c.call(id, 'big');
    const ids = [];
    for (let i = 0; i < 8; i++) ids.push(((await c.next()) as { id: number; result: string }).id);
    expect(ids.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(log.warn).not.toHaveBeenCalled();
  });

  it('drops a client that leaves more than the limit of answers unread for stallMs', async () => {
    const onClose = vi.fn();
    const { server, log } = await start({ maxQueuedBytes: 64 * 1024, stallMs: 100, onClose });
    const slow = await connect();
    slow.socket.pause();
    for (let id = 1; id <= 8; id++) slow.call(id, 'big');
    await vi.waitUntil(() => onClose.mock.calls.length === 1, { timeout: 10_000 });
    expect(log.warn).toHaveBeenCalledWith(expect.objectContaining({ stallMs: 100 }), expect.stringContaining('nothing read for a while'));
    expect([...server.connections()]).toHaveLength(0);
  });

  it('close() does not hang on a client that stopped reading', async () => {
    const { server } = await start({ maxQueuedBytes: 64 * 1024 * 1024 });
    const slow = await connect();
    slow.call(1, 'whoami');
    const slowId = ((await slow.next()) as { result: number }).result;
    slow.socket.pause();
    const conn = [...server.connections()].find((c) => c.id === slowId)!;
    const payload = 'z'.repeat(64 * 1024);
    for (let i = 0; i < 64; i++) conn.notify('event', { payload });
    await server.close();
    running.length = 0;
    expect(fs.existsSync(sock)).toBe(false);
    slow.socket.resume();
    await slow.closed;
  });

  it('notify on a closed connection is a no-op', async () => {
    const { server } = await start();
    const c = await connect();
    const conn = [...server.connections()][0]!;
    conn.close();
    await c.closed;
    expect(() => conn.notify('event', {})).not.toThrow();
    expect(conn.closed).toBe(true);
  });
});

describe('socket file', () => {
  it('is created without permissions for others, restoring the umask', async () => {
    const before = process.umask(0o022);
    process.umask(before);
    await start();
    expect(fs.statSync(sock).mode & 0o777).toBe(0o600);
    const after = process.umask(before);
    expect(after).toBe(before);
  });

  it('with groupAccess lets the group in, still not others', async () => {
    await start({ groupAccess: true });
    expect(fs.statSync(sock).mode & 0o777).toBe(0o660);
  });

  it('creates a missing parent directory private to the user', async () => {
    sock = path.join(dir, 'run', 's.sock');
    await start();
    expect(fs.statSync(path.dirname(sock)).mode & 0o777).toBe(0o700);
  });

  it('replaces a stale socket left by a killed daemon', async () => {
    const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(sock)}, () => console.log('up'))`]);
    await once(child.stdout, 'data');
    child.kill('SIGKILL');
    await once(child, 'exit');
    expect(fs.lstatSync(sock).isSocket()).toBe(true);
    await start();
    const c = await connect();
    c.call(1, 'ping');
    expect(await c.next()).toStrictEqual(pong(1));
  });

  it('refuses a socket a live daemon listens on, and leaves that daemon working', async () => {
    await start();
    await expect(start()).rejects.toBeInstanceOf(SocketInUseError);
    const c = await connect();
    c.call(1, 'ping');
    expect(await c.next()).toStrictEqual(pong(1));
  });

  it('refuses a path that is not a socket and leaves it alone', async () => {
    fs.writeFileSync(sock, 'precious');
    await expect(start()).rejects.toBeInstanceOf(SocketPathError);
    expect(fs.readFileSync(sock, 'utf8')).toBe('precious');
  });

  it('refuses a symlink at the socket path, to a stale socket or a file, and leaves both it and its target alone', async () => {
    const target = path.join(dir, 'precious');
    fs.writeFileSync(target, 'precious');
    fs.symlinkSync(target, sock);
    await expect(start()).rejects.toThrow(
      `socket path ${sock} is a symbolic link, not a socket: refusing to follow or replace it; remove it or set PORTMAND_SOCKET to another path`,
    );
    expect(fs.readlinkSync(sock)).toBe(target);
    expect(fs.readFileSync(target, 'utf8')).toBe('precious');

    // A stale socket behind the link would pass a stat() check; the link itself is what counts.
    fs.unlinkSync(sock);
    const stale = path.join(dir, 'stale.sock');
    const child = spawn(process.execPath, [
      '-e',
      `require('net').createServer().listen(${JSON.stringify(stale)}, () => console.log('up'))`,
    ]);
    await once(child.stdout, 'data');
    child.kill('SIGKILL');
    await once(child, 'exit');
    fs.symlinkSync(stale, sock);
    await expect(start()).rejects.toBeInstanceOf(SocketPathError);
    expect(fs.lstatSync(sock).isSymbolicLink()).toBe(true);
    expect(fs.lstatSync(stale).isSocket()).toBe(true);
  });

  it('refuses a socket directory others may write to, unless its sticky bit protects our entries', async () => {
    const shared = path.join(dir, 'shared');
    fs.mkdirSync(shared);
    fs.chmodSync(shared, 0o777);
    sock = path.join(shared, 's.sock');
    await expect(start()).rejects.toThrow(
      `socket directory ${shared} is writable by all users (mode 0777) without the sticky bit: they could replace what the daemon keeps there; make it 0700 (chmod 700 ${shared}) or set PORTMAND_SOCKET to another`,
    );
    expect(fs.readdirSync(shared)).toEqual([]);
    fs.chmodSync(shared, 0o1777); // as /tmp is
    await start();
    expect(fs.lstatSync(sock).isSocket()).toBe(true);
  });

  it('refuses a socket directory or lock directory that is a symlink', async () => {
    const real = path.join(dir, 'real');
    fs.mkdirSync(real, { mode: 0o700 });
    fs.symlinkSync(real, path.join(dir, 'link'));
    sock = path.join(dir, 'link', 's.sock');
    await expect(start()).rejects.toThrow(/^socket directory .*\/link is a symbolic link: refusing to follow it/);
    sock = path.join(dir, 's.sock');
    fs.symlinkSync(real, `${sock}.lock`);
    await expect(start()).rejects.toThrow(/^socket lock directory .*s\.sock\.lock is a symbolic link/);
    expect(fs.readdirSync(real)).toEqual([]);
  });

  it('close() leaves alone a socket that replaced its own at the path', async () => {
    const { server } = await start();
    fs.unlinkSync(sock);
    const other = net.createServer();
    await new Promise<void>((resolve) => other.listen(sock, resolve));
    await server.close();
    running.length = 0;
    expect(fs.lstatSync(sock).isSocket()).toBe(true);
    const c = net.connect(sock);
    await once(c, 'connect');
    c.destroy();
    await new Promise<void>((resolve) => other.close(() => resolve()));
  });

  it('two servers starting at once on one stale path: exactly one listens', async () => {
    const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(sock)}, () => console.log('up'))`]);
    await once(child.stdout, 'data');
    child.kill('SIGKILL');
    await once(child, 'exit');
    const results = await Promise.allSettled([start(), start()]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.find((r) => r.status === 'rejected')).toMatchObject({ reason: expect.any(SocketInUseError) });
    const c = await connect();
    c.call(1, 'ping');
    expect(await c.next()).toStrictEqual(pong(1));
  });

  it('close() ends connections and removes the socket file', async () => {
    const { server } = await start();
    const c = await connect();
    await server.close();
    running.length = 0;
    await c.closed;
    expect(fs.existsSync(sock)).toBe(false);
  });
});
