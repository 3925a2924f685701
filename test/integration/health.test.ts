import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import { beforeAll, describe, expect, it } from 'vitest';
import type { PortmandClient, PortmandEvent } from '../../client/client.ts';
import { useDaemon } from './harness.ts';

// A long default interval: checks in these tests run when asked, except where a test sets intervalSec.
const daemon = useDaemon({ env: { PORTMAND_HEALTH_INTERVAL: '3600' } });
let pm: PortmandClient;
const events: Array<PortmandEvent<'service_health'>> = [];
const waiters: Array<{ match: (e: PortmandEvent<'service_health'>) => boolean; resolve: (e: PortmandEvent<'service_health'>) => void }> =
  [];

beforeAll(async () => {
  pm = daemon().client({ sendPid: false });
  const watcher = daemon().client();
  await watcher.events.subscribe({ types: ['service_health'] });
  watcher.on('service_health', (e) => {
    events.push(e);
    for (const w of [...waiters]) if (w.match(e)) (waiters.splice(waiters.indexOf(w), 1), w.resolve(e));
  });
});

function nextHealth(service: string, status: string): Promise<PortmandEvent<'service_health'>> {
  const match = (e: PortmandEvent<'service_health'>) => e.data.service === service && e.data.status === status;
  const seen = events.find(match);
  return seen ? Promise.resolve(seen) : new Promise((resolve) => waiters.push({ match, resolve }));
}

async function httpServer(): Promise<{ port: number; setStatus(code: number): void; close(): Promise<void> }> {
  let status = 200;
  const server = http.createServer((_req, res) => res.writeHead(status).end('ok'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    setStatus: (code) => (status = code),
    close: () => new Promise((r) => server.close(() => r())),
  };
}

describe('health checks', () => {
  it('an HTTP check turns the service healthy, then unhealthy on a 503, with service_health events', async () => {
    const srv = await httpServer();
    await pm.service.register({ name: 'web-h', port: srv.port, healthCheck: { type: 'http', url: `http://127.0.0.1:${srv.port}/health` } });
    const [first] = await pm.health.check({ service: 'web-h' });
    expect(first).toMatchObject({ service: 'web-h', status: 'healthy', latencyMs: expect.any(Number) });
    expect((await nextHealth('web-h', 'healthy')).data).toMatchObject({ previous: 'registered' });
    expect((await pm.service.get({ name: 'web-h' })).status).toBe('healthy');

    srv.setStatus(503);
    // One failed check does not flip the status (failuresBeforeUnhealthy defaults to 2); the second does.
    expect((await pm.health.check({ service: 'web-h' }))[0]).toMatchObject({ status: 'healthy', ok: false, error: 'HTTP 503' });
    expect((await pm.service.get({ name: 'web-h' })).status).toBe('healthy');
    const [second] = await pm.health.check({ service: 'web-h' });
    expect(second).toMatchObject({ status: 'unhealthy', ok: false, error: 'HTTP 503' });
    expect((await nextHealth('web-h', 'unhealthy')).data).toMatchObject({ previous: 'healthy', error: 'HTTP 503' });
    const detail = await pm.health.get({ service: 'web-h' });
    expect(detail.history?.slice(0, 2)).toMatchObject([
      { status: 'healthy', ok: false },
      { status: 'healthy', ok: true },
    ]);
    await srv.close();
  });

  it('a TCP check connects to the service port; a closed port is unhealthy', async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as net.AddressInfo).port;
    await pm.service.register({
      name: 'db-h',
      port,
      host: '127.0.0.1',
      healthCheck: { type: 'tcp', timeoutMs: 1000, failuresBeforeUnhealthy: 1 },
    });
    expect((await pm.health.check({ service: 'db-h' }))[0]).toMatchObject({ status: 'healthy' });
    await new Promise((r) => server.close(r));
    expect((await pm.health.check({ service: 'db-h' }))[0]).toMatchObject({ status: 'unhealthy', error: 'ECONNREFUSED' });
    expect((await pm.health.list()).find((h) => h.service === 'db-h')).toMatchObject({ status: 'unhealthy' });
  });

  it("checks run on the service's own schedule without being asked", async () => {
    const srv = await httpServer();
    await pm.service.register({
      name: 'sched-h',
      port: srv.port,
      healthCheck: { type: 'http', url: `http://127.0.0.1:${srv.port}/`, intervalSec: 1, failuresBeforeUnhealthy: 1 },
    });
    // The first check is asked for; the next one comes from the schedule alone. A check that was
    // never run is due at any interval, so only one after another shows the service's own 1 s
    // (the default here is an hour) being kept: one tick to wait, not three.
    expect((await pm.health.check({ service: 'sched-h' }))[0]).toMatchObject({ status: 'healthy' });
    srv.setStatus(500);
    expect((await nextHealth('sched-h', 'unhealthy')).data.error).toBe('HTTP 500');
    await pm.service.unregister({ name: 'sched-h' });
    await srv.close();
  });

  it('asking about a service without a check is -32001 naming what is missing', async () => {
    await pm.service.register({ name: 'plain-h', port: 18990 });
    await expect(pm.health.check({ service: 'plain-h' })).rejects.toMatchObject({
      code: -32001,
      data: { kind: 'health check', key: 'plain-h' },
    });
    await expect(pm.health.get({ service: 'ghost-h' })).rejects.toMatchObject({ code: -32001, data: { kind: 'service' } });
  });

  it('portmand health shows the results; --check runs them now', async () => {
    const list = await daemon().cliInProcess(['health', '--json']);
    expect(list.code).toBe(0);
    expect((JSON.parse(list.stdout) as Array<{ service: string }>).map((r) => r.service)).toContain('db-h');
    // A live listener: a port closed earlier in this file may have been taken by anything since.
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as net.AddressInfo).port;
    await pm.service.register({ name: 'cli-h', port, host: '127.0.0.1', healthCheck: { type: 'tcp', timeoutMs: 1000 } });
    const now = await daemon().cliInProcess(['health', 'cli-h', '--check']);
    await new Promise((r) => server.close(r));
    expect(now.code).toBe(0);
    expect(now.stdout).toMatch(/cli-h\s+healthy\s+[\d.]+ ms\s+\S+/);
    const missing = await daemon().cliInProcess(['health', 'plain-h']);
    expect(missing.code).toBe(1);
  });

  it('registering again without healthCheck keeps the check; healthCheck: null removes it', async () => {
    await pm.service.register({ name: 'kept-h', port: 18991, healthCheck: { type: 'tcp' } });
    expect((await pm.service.register({ name: 'kept-h', port: 18991, tags: ['v2'] })).healthCheck).toEqual({ type: 'tcp' });
    const removed = await pm.service.register({ name: 'kept-h', port: 18991, healthCheck: null });
    expect(removed.healthCheck).toBeUndefined();
    await expect(pm.health.check({ service: 'kept-h' })).rejects.toMatchObject({ code: -32001, data: { kind: 'health check' } });
  });
});

/** An HTTP server that takes requests and never answers; it tells when a request arrives and when its connection closes. */
async function hangingServer(): Promise<{ port: number; requested: Promise<void>; closed: Promise<void>; close(): Promise<void> }> {
  let onRequest!: () => void;
  let onClosed!: () => void;
  const requested = new Promise<void>((r) => (onRequest = r));
  const closed = new Promise<void>((r) => (onClosed = r));
  const server = http.createServer((req) => {
    req.socket.once('close', onClosed);
    onRequest();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    requested,
    closed,
    close: () => new Promise((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

/** Settles to 'pending' if `p` has not settled by the time the event loop gets round to it. */
function state(p: Promise<unknown>): Promise<'settled' | 'pending'> {
  return Promise.race([
    p.then(
      () => 'settled' as const,
      () => 'settled' as const,
    ),
    new Promise<'pending'>((r) => setImmediate(() => r('pending'))),
  ]);
}

describe('slow and hostile health checks', () => {
  it('a fast TCP check completes while endpoints that never answer hang, and unregistering aborts their probes', async () => {
    const slow = await Promise.all(Array.from({ length: 10 }, () => hangingServer()));
    for (const [i, s] of slow.entries()) {
      await pm.service.register({
        name: `hang-${i}`,
        port: s.port,
        healthCheck: { type: 'http', url: `http://127.0.0.1:${s.port}/`, timeoutMs: 20000 },
      });
    }
    const hanging = slow.map((_, i) => pm.health.check({ service: `hang-${i}` }));
    // Every slot is taken by a probe that will not get an answer.
    await Promise.all(slow.map((s) => s.requested));

    const listener = net.createServer();
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', () => r()));
    const port = (listener.address() as net.AddressInfo).port;
    await pm.service.register({ name: 'quick-h', port, host: '127.0.0.1', healthCheck: { type: 'tcp' } });
    expect((await pm.health.check({ service: 'quick-h' }))[0]).toMatchObject({ status: 'healthy' });
    expect(await Promise.all(hanging.map(state))).toEqual(hanging.map(() => 'pending'));

    // Unregistering closes the probe's connection, and the check that waited on it answers with nothing.
    await pm.service.unregister({ name: 'hang-0' });
    await slow[0]!.closed;
    expect(await hanging[0]).toEqual([]);
    for (let i = 1; i < slow.length; i++) await pm.service.unregister({ name: `hang-${i}` });
    await Promise.all(slow.map((s) => s.closed));
    await Promise.all(hanging);
    for (const s of slow) await s.close();
    await new Promise((r) => listener.close(r));
  });

  it('a check of an endpoint that never answers answers with a timeout result', async () => {
    const s = await hangingServer();
    await pm.service.register({
      name: 'deaf-h',
      port: s.port,
      healthCheck: { type: 'http', url: `http://127.0.0.1:${s.port}/`, timeoutMs: 300 },
    });
    const [result] = await pm.health.check({ service: 'deaf-h' });
    // Unjudged still: one failed check is not yet a verdict.
    expect(result).toMatchObject({ service: 'deaf-h', status: 'registered', ok: false, latencyMs: null, error: 'no answer within 300 ms' });
    await s.closed;
    await pm.service.unregister({ name: 'deaf-h' });
    await s.close();
  });

  it('refuses a timeoutMs over the maximum with -32602, changing nothing', async () => {
    const register = pm.service.register({ name: 'patient-h', port: 18992, healthCheck: { type: 'tcp', timeoutMs: 600_000 } });
    await expect(register).rejects.toMatchObject({
      code: -32602,
      data: { field: 'healthCheck.timeoutMs', problem: 'must be a whole number 1..30000' },
    });
    await expect(pm.service.get({ name: 'patient-h' })).rejects.toMatchObject({ code: -32001 });
  });

  // Nothing here may reach another host, even if the refusal were broken: the
  // targets are broadcast and multicast addresses, to which TCP never sends a
  // packet. The cloud metadata address and names are covered by unit tests.
  it.each([
    [
      'the broadcast address',
      { type: 'http', url: 'http://255.255.255.255:9/health' },
      '127.0.0.1',
      'healthCheck.url',
      /255\.255\.255\.255 is not an address of this host.*"allowRemote": true/,
    ],
    [
      'a v4-mapped multicast address',
      { type: 'http', url: 'http://[::ffff:224.0.0.1]:9/' },
      '127.0.0.1',
      'healthCheck.url',
      /not an address of this host/,
    ],
    ['a service bound elsewhere (TCP)', { type: 'tcp' }, '224.0.0.1', 'host', /224\.0\.0\.1 is not an address of this host/],
  ] as const)('refuses a check of %s with -32602', async (_what, healthCheck, host, field, problem) => {
    const register = pm.service.register({ name: 'remote-h', port: 18993, host, healthCheck });
    await expect(register).rejects.toMatchObject({ code: -32602, data: { field, problem: expect.stringMatching(problem) } });
    await expect(pm.service.get({ name: 'remote-h' })).rejects.toMatchObject({ code: -32001 });
  });

  it('accepts this host by name and by its interface addresses', async () => {
    const srv = await httpServer();
    const r = await pm.service.register({
      name: 'local-name-h',
      port: srv.port,
      healthCheck: { type: 'http', url: `http://localhost:${srv.port}/` },
    });
    expect(r.healthCheck).toMatchObject({ url: `http://localhost:${srv.port}/` });
    await pm.service.unregister({ name: 'local-name-h' });
    await srv.close();
    const own = Object.values(os.networkInterfaces())
      .flatMap((l) => l ?? [])
      .find((i) => !i.internal && i.family === 'IPv4');
    if (own) {
      const byAddress = await pm.service.register({
        name: 'local-if-h',
        port: 18994,
        healthCheck: { type: 'http', url: `http://${own.address}:18994/` },
      });
      expect(byAddress.healthCheck).toMatchObject({ type: 'http' });
      await pm.service.unregister({ name: 'local-if-h' });
    }
  });
});
