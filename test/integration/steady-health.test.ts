import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { PortmandClient, type PortmandEvent } from '../../client/client.ts';
import { cleanup, startDaemon, tempDir, type Daemon } from './harness.ts';

const dirs: string[] = [];
const running: Daemon[] = [];
afterAll(async () => {
  for (const d of running) await d.stop();
  for (const dir of dirs) cleanup(dir);
});

async function daemonIn(dir: string, env: NodeJS.ProcessEnv = {}): Promise<Daemon> {
  const d = await startDaemon({ dir, env: { PORTMAND_HEALTH_INTERVAL: '3600', ...env } });
  running.push(d);
  return d;
}

async function httpServer(status: number): Promise<{ port: number; setStatus(code: number): void; close(): Promise<void> }> {
  let code = status;
  const server = http.createServer((_req, res) => res.writeHead(code).end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    setStatus: (c) => (code = c),
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** A port nothing listens on: taken from the OS, then closed. */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe('steady health', () => {
  it('one failed check does not flip the status, and the results and the streak survive a daemon restart', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const srv = await httpServer(200);
    let d = await daemonIn(dir);
    let pm = d.client({ sendPid: false });
    await pm.service.register({ name: 'steady', port: srv.port, healthCheck: { type: 'http', url: `http://127.0.0.1:${srv.port}/` } });
    expect((await pm.health.check({ service: 'steady' }))[0]).toMatchObject({ status: 'healthy', ok: true });
    srv.setStatus(500);
    expect((await pm.health.check({ service: 'steady' }))[0]).toMatchObject({ status: 'healthy', ok: false, error: 'HTTP 500' });
    await d.stop();

    d = await daemonIn(dir);
    pm = d.client({ sendPid: false });
    const kept = await pm.health.get({ service: 'steady' });
    expect(kept).toMatchObject({ status: 'healthy', ok: false, error: 'HTTP 500', history: [{ status: 'healthy', ok: true }] });
    expect(await pm.health.get({ service: 'steady', limit: 1 })).toMatchObject({ history: [] });
    expect((await pm.health.list()).find((h) => h.service === 'steady')).toMatchObject({ ok: false });
    // The failure before the restart counts: this one is the second in a row.
    expect((await pm.health.check({ service: 'steady' }))[0]).toMatchObject({ status: 'unhealthy', ok: false });
    expect((await pm.service.get({ name: 'steady' })).status).toBe('unhealthy');
    await srv.close();
  });

  it('an HTTP check honours expectStatus', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const srv = await httpServer(204);
    const pm = (await daemonIn(dir)).client({ sendPid: false });
    const url = `http://127.0.0.1:${srv.port}/`;
    await pm.service.register({
      name: 'exact',
      port: srv.port,
      healthCheck: { type: 'http', url, expectStatus: '200', failuresBeforeUnhealthy: 1 },
    });
    expect((await pm.health.check({ service: 'exact' }))[0]).toMatchObject({ status: 'unhealthy', ok: false, error: 'HTTP 204' });
    await pm.service.register({ name: 'exact', port: srv.port, healthCheck: { type: 'http', url, expectStatus: '200,204' } });
    expect((await pm.health.check({ service: 'exact' }))[0]).toMatchObject({ status: 'healthy', ok: true });
    await expect(
      pm.service.register({ name: 'bad-expect', port: srv.port, healthCheck: { type: 'http', url, expectStatus: '2xx' } }),
    ).rejects.toMatchObject({
      code: -32602,
      data: { field: 'healthCheck.expectStatus' },
    });
    await expect(
      pm.service.register({ name: 'bad-threshold', port: srv.port, healthCheck: { type: 'tcp', failuresBeforeUnhealthy: 0 } }),
    ).rejects.toMatchObject({
      code: -32602,
      data: { field: 'healthCheck.failuresBeforeUnhealthy' },
    });
    await srv.close();
  });

  it("the config's health defaults apply to every check that does not set its own", async () => {
    const dir = tempDir();
    dirs.push(dir);
    const config = path.join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ health: { failuresBeforeUnhealthy: 1 } }));
    const pm = (await daemonIn(dir, { PORTMAND_CONFIG: config })).client({ sendPid: false });
    const port = await closedPort();
    await pm.service.register({ name: 'touchy', port, host: '127.0.0.1', healthCheck: { type: 'tcp', timeoutMs: 1000 } });
    expect((await pm.health.check({ service: 'touchy' }))[0]).toMatchObject({ status: 'unhealthy', ok: false });
  });

  it('restartAfterFailures runs the restart action after that many failed checks', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const d = await daemonIn(dir);
    const pm = d.client({ sendPid: false });
    const watcher = new PortmandClient({ socketPath: d.socket });
    const seen = new Promise<PortmandEvent<'service_restarted'>>((resolve) => watcher.on('service_restarted', resolve));
    await watcher.events.subscribe({ types: ['service_restarted'] });
    const out = path.join(dir, 'restarted');
    const port = await closedPort();
    await pm.service.register({
      name: 'flaky',
      port,
      host: '127.0.0.1',
      healthCheck: { type: 'tcp', timeoutMs: 1000, restartAfterFailures: 2 },
      restart: { command: [process.execPath, '-e', "require('fs').writeFileSync(process.argv[1], process.env.PORT)", out] },
    });
    await pm.health.check({ service: 'flaky' });
    await pm.health.check({ service: 'flaky' });
    expect((await seen).data).toEqual({ service: 'flaky', port, reason: 'unhealthy', ok: true, exitCode: 0 });
    expect(readFileSync(out, 'utf8')).toBe(String(port));
    watcher.close();
  });
});
