import http from 'node:http';
import net from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import type { PortmandClient, PortmandEvent } from '../../client/client.ts';
import { useDaemon } from './harness.ts';

// A long default interval: checks in these tests run when asked, except where a test sets intervalSec.
const daemon = useDaemon({ env: { PORTMAND_HEALTH_INTERVAL: '3600' } });
let pm: PortmandClient;
const events: Array<PortmandEvent<'service_health'>> = [];
const waiters: Array<{ match: (e: PortmandEvent<'service_health'>) => boolean; resolve: (e: PortmandEvent<'service_health'>) => void }> = [];

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
    const [second] = await pm.health.check({ service: 'web-h' });
    expect(second).toMatchObject({ status: 'unhealthy', error: 'HTTP 503' });
    expect((await nextHealth('web-h', 'unhealthy')).data).toMatchObject({ previous: 'healthy', error: 'HTTP 503' });
    const detail = await pm.health.get({ service: 'web-h' });
    expect(detail.history?.[0]).toMatchObject({ status: 'healthy' });
    await srv.close();
  });

  it('a TCP check connects to the service port; a closed port is unhealthy', async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as net.AddressInfo).port;
    await pm.service.register({ name: 'db-h', port, host: '127.0.0.1', healthCheck: { type: 'tcp', timeoutMs: 1000 } });
    expect((await pm.health.check({ service: 'db-h' }))[0]).toMatchObject({ status: 'healthy' });
    await new Promise((r) => server.close(r));
    expect((await pm.health.check({ service: 'db-h' }))[0]).toMatchObject({ status: 'unhealthy', error: 'ECONNREFUSED' });
    expect((await pm.health.list()).find((h) => h.service === 'db-h')).toMatchObject({ status: 'unhealthy' });
  });

  it("checks run on the service's own schedule without being asked", async () => {
    const srv = await httpServer();
    await pm.service.register({ name: 'sched-h', port: srv.port, healthCheck: { type: 'http', url: `http://127.0.0.1:${srv.port}/`, intervalSec: 1 } });
    await nextHealth('sched-h', 'healthy');
    srv.setStatus(500);
    expect((await nextHealth('sched-h', 'unhealthy')).data.error).toBe('HTTP 500');
    await pm.service.unregister({ name: 'sched-h' });
    await srv.close();
  });

  it('asking about a service without a check is -32001 naming what is missing', async () => {
    await pm.service.register({ name: 'plain-h', port: 18990 });
    await expect(pm.health.check({ service: 'plain-h' })).rejects.toMatchObject({ code: -32001, data: { kind: 'health check', key: 'plain-h' } });
    await expect(pm.health.get({ service: 'ghost-h' })).rejects.toMatchObject({ code: -32001, data: { kind: 'service' } });
  });

  it('portmand health shows the results; --check runs them now', async () => {
    const list = await daemon().cli(['health', '--json']);
    expect(list.code).toBe(0);
    expect((JSON.parse(list.stdout) as Array<{ service: string }>).map((r) => r.service)).toContain('db-h');
    const now = await daemon().cli(['health', 'db-h', '--check']);
    expect(now.code).toBe(0);
    expect(now.stdout).toMatch(/db-h\s+unhealthy\s+-\s+\S+.*ECONNREFUSED/);
    const missing = await daemon().cli(['health', 'plain-h']);
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
