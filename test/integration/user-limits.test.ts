// Per-user limits against the real daemon, with clients running as other
// users (runuser, setpriv) on a root daemon's shared socket: one user cannot
// take every port (limits.maxPortsPerUser) nor every connection
// (limits.maxConnectionsPerUser); admins are not held to either.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callAs, otherUsersUnavailable, passable, type Outcome } from './access-users.ts';
import { cleanup, ROOT, startDaemon, tempDir, type Daemon } from './harness.ts';

const unavailable = otherUsersUnavailable();
if (unavailable) console.log(`per-user limit tests with other users skipped: ${unavailable}`);

const NOBODY = { user: 'nobody' } as const;
const STRANGER = { uid: 4243 } as const;
/** Leases owned by no pid: the driver exits between calls, and its leases must not end with it. */
const NO_PID = { sendPid: false };

/** A daemon on a socket everyone may open, in a directory everyone may pass through. */
async function sharedDaemon(limits: object): Promise<Daemon> {
  const dir = tempDir();
  passable(dir);
  const configFile = path.join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify({ socket: { mode: '0666' }, limits }));
  return startDaemon({ dir, env: { PORTMAND_CONFIG: configFile } });
}

const ok = (o: Outcome | undefined) => {
  expect(o?.error).toBeUndefined();
  return o!.ok as Record<string, unknown>;
};

describe.skipIf(unavailable !== null)('limits.maxPortsPerUser', () => {
  let d: Daemon;
  beforeAll(async () => {
    d = await sharedDaemon({ maxPortsPerUser: 2 });
  });
  afterAll(async () => {
    await d?.stop();
    if (d) cleanup(d.dir);
  });

  it("refuses a user's services and reservations past the cap with -32005 naming it; what it holds still works; a release makes room", async () => {
    const [a, b, c, again, reserve, register] = await callAs(
      NOBODY,
      d.socket,
      [
        { method: 'port.allocate', params: { service: 'q-a' } },
        { method: 'port.allocate', params: { service: 'q-b' } },
        { method: 'port.allocate', params: { service: 'q-c' } },
        // Asking again for a service it holds creates nothing: allowed.
        { method: 'port.allocate', params: { service: 'q-a' } },
        { method: 'port.reserve', params: { port: 24901 } },
        { method: 'service.register', params: { name: 'q-d', port: 24902 } },
      ],
      NO_PID,
    );
    const port = ok(a).port;
    ok(b);
    for (const refused of [c, reserve, register]) {
      expect(refused?.error).toMatchObject({
        code: -32005,
        message: expect.stringContaining('limits.maxPortsPerUser'),
        data: { limit: 'maxPortsPerUser', max: 2, held: 2, owner: { uid: 65534, user: 'nobody' } },
      });
      // Waiting does not help, so the client library must not wait and retry.
      expect(refused?.error?.data).not.toHaveProperty('retryAfterMs');
    }
    expect(ok(again)).toMatchObject({ service: 'q-a', port });
    // Nothing was made for the refused calls.
    const root = d.client();
    await expect(root.service.get({ name: 'q-c' })).rejects.toMatchObject({ code: -32001 });
    expect((await root.port.get({ port: 24901 })).state).not.toBe('reserved');

    // Another user has a cap of its own, not what is left of nobody's.
    const [other] = await callAs(STRANGER, d.socket, [{ method: 'port.allocate', params: { service: 'q-other' } }], NO_PID);
    ok(other);

    const [release, c2] = await callAs(
      NOBODY,
      d.socket,
      [
        { method: 'port.release', params: { port, service: 'q-a' } },
        { method: 'port.allocate', params: { service: 'q-c' } },
      ],
      NO_PID,
    );
    expect(ok(release)).toMatchObject({ released: true });
    ok(c2);
  });

  it("counts the reservation conflict.resolve's reserve makes: the caller's, within its cap, and its to release", async () => {
    // At the cap, reserving a service's port makes one record more: refused like port.reserve.
    const [a, b, full] = await callAs(
      { uid: 4244 },
      d.socket,
      [
        { method: 'port.allocate', params: { service: 'rr-a' } },
        { method: 'port.allocate', params: { service: 'rr-b' } },
        { method: 'conflict.resolve', params: { service: 'rr-a', strategy: 'reserve' } },
      ],
      NO_PID,
    );
    ok(a);
    ok(b);
    expect(full?.error).toMatchObject({ code: -32005, data: { limit: 'maxPortsPerUser', max: 2, held: 2 } });
    expect((await d.client().port.get({ port: ok(a).port as number })).reservedFor).toBeUndefined();
    // Below it, the reservation is made, owned by the caller: it outlives the service, and its owner may release it.
    const [x, reserved, gone] = await callAs(
      { uid: 4245 },
      d.socket,
      [
        { method: 'port.allocate', params: { service: 'rr-x' } },
        { method: 'conflict.resolve', params: { service: 'rr-x', strategy: 'reserve' } },
        { method: 'service.unregister', params: { name: 'rr-x' } },
      ],
      NO_PID,
    );
    const port = ok(x).port as number;
    ok(reserved);
    ok(gone);
    expect(await d.client().port.get({ port })).toMatchObject({ state: 'reserved', reservedFor: 'rr-x', owner: { uid: 4245 } });
    const [release] = await callAs({ uid: 4245 }, d.socket, [{ method: 'port.release', params: { port } }], NO_PID);
    expect(ok(release)).toMatchObject({ released: true });
  });

  it('holds no admin to it: root owns as many as it asks for', async () => {
    const root = d.client({ sendPid: false });
    for (let i = 0; i < 4; i++) await root.port.allocate({ service: `q-root-${i}` });
    await root.port.reserve({ port: 24903 });
    expect((await root.service.list()).filter((s) => s.name.startsWith('q-root-'))).toHaveLength(4);
  });
});

/**
 * As nobody, opens `count` silent connections and waits until the daemon has
 * closed `closed` of them; resolves with what it saw, and a function that
 * closes the rest and waits for the driver to exit.
 */
async function holdAsNobody(
  socket: string,
  count: number,
  closed: number,
): Promise<{ seen: { closed: number; said: Array<Record<string, unknown>> }; done(): Promise<void> }> {
  const driver = path.join(ROOT, 'test/integration/conn-driver.mjs');
  const child = spawn('runuser', ['-u', 'nobody', '--', process.execPath, driver, socket, String(count), String(closed)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    void exited.then(() => reject(new Error('the connection driver exited before it reported')));
  });
  return {
    seen: JSON.parse(line) as { closed: number; said: Array<Record<string, unknown>> },
    done: async () => {
      child.stdin!.end();
      await exited;
    },
  };
}

/** Opens a connection as this process (root) and asks auth.whoami on it; resolves with the answer line, the socket left open. */
function whoamiAsRoot(socket: string): Promise<{ conn: net.Socket; answer: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const conn = net.connect(socket);
    let buf = '';
    conn.on('data', (chunk) => {
      buf += chunk.toString();
      const at = buf.indexOf('\n');
      if (at >= 0) resolve({ conn, answer: JSON.parse(buf.slice(0, at)) as Record<string, unknown> });
    });
    conn.once('error', reject);
    conn.once('close', () => reject(new Error('closed without an answer')));
    conn.write(`${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'auth.whoami' })}\n`);
  });
}

describe.skipIf(unavailable !== null)('limits.maxConnectionsPerUser', () => {
  let d: Daemon;
  beforeAll(async () => {
    d = await sharedDaemon({ maxConnections: 4, maxConnectionsPerUser: 2 });
  });
  afterAll(async () => {
    await d?.stop();
    if (d) cleanup(d.dir);
  });

  it('one user cannot take every connection: past its cap its connections are told why and closed, and others get in', async () => {
    // Silent connections: the daemon finds whose they are once more are open than one user may hold.
    const nobody = await holdAsNobody(d.socket, 4, 2);
    try {
      expect(nobody.seen.closed).toBe(2);
      for (const said of nobody.seen.said) {
        expect(said).toMatchObject({
          id: null,
          error: { code: -32005, data: { limit: 'maxConnectionsPerUser', max: 2, held: 2, uid: 65534 } },
        });
      }
      // Another user gets in, and so does its mutating call, although nobody tried to take all four.
      const [other] = await callAs(STRANGER, d.socket, [{ method: 'port.allocate', params: { service: 'c-other' } }], NO_PID);
      ok(other);
    } finally {
      await nobody.done();
    }
    await d.waitForLog((r) => r.msg === 'connection refused: limits.maxConnectionsPerUser' && r.uid === 65534);
  });

  it('holds no admin to it: root may hold more than a user may', async () => {
    const held = await Promise.all([1, 2, 3].map(() => whoamiAsRoot(d.socket)));
    try {
      for (const { answer } of held) expect(answer).toMatchObject({ id: 1, result: { uid: 0, admin: true } });
    } finally {
      for (const { conn } of held) conn.destroy();
    }
  });
});
