import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { existsSync, readFileSync, watch, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PortmandClient, PortmandEvent } from '../../client/client.ts';
import { cleanup, startDaemon, tempDir, type Daemon } from './harness.ts';

let d: Daemon;
let pm: PortmandClient;
const received: Array<{ type: string; data: Record<string, unknown> }> = [];
const onReceived: Array<() => void> = [];
let hooks: http.Server;
let hanging: net.Server;
let out: string;
const failed: Array<PortmandEvent<'alert_failed'>> = [];

beforeAll(async () => {
  const dir = tempDir();
  out = path.join(dir, 'alert.json');
  // A webhook receiver on loopback, and an endpoint that accepts and never answers.
  hooks = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      received.push(JSON.parse(body) as { type: string; data: Record<string, unknown> });
      res.writeHead(204).end();
      for (const f of onReceived.splice(0)) f();
    });
  });
  await new Promise<void>((r) => hooks.listen(0, '127.0.0.1', () => r()));
  hanging = net.createServer(() => undefined);
  await new Promise<void>((r) => hanging.listen(0, '127.0.0.1', () => r()));
  const hookPort = (hooks.address() as net.AddressInfo).port;
  const hangPort = (hanging.address() as net.AddressInfo).port;
  const config = path.join(dir, 'config.json');
  writeFileSync(
    config,
    JSON.stringify({
      alerts: [
        {
          on: ['conflict_detected'],
          minSeverity: 'critical',
          command: [process.execPath, '-e', "require('fs').writeFileSync(process.argv[1], require('fs').readFileSync(0))", out],
        },
        { on: ['service_health'], webhook: `http://127.0.0.1:${hookPort}/hook` },
        // A short timeout: the endpoint never answers, so any timeout is one, and the test waits out
        // three of them (plus the fixed retry delays, 0.5 s and 1 s).
        { on: ['port_released'], webhook: `http://127.0.0.1:${hangPort}/`, timeoutMs: 100 },
      ],
    }),
  );
  d = await startDaemon({ dir, env: { PORTMAND_CONFIG: config, PORTMAND_HEALTH_INTERVAL: '3600' } });
  pm = d.client({ sendPid: false });
  const watcher = d.client();
  await watcher.events.subscribe({ types: ['alert_failed'] });
  watcher.on('alert_failed', (e) => failed.push(e));
});

afterAll(async () => {
  await d.stop();
  hooks.close();
  hanging.close();
  cleanup(d.dir);
});

describe('alerts', () => {
  it('a command receives a critical conflict event as JSON on stdin', async () => {
    const port = (await pm.port.suggest({ count: 1 })).ports[0]!;
    await pm.service.register({ name: 'al-a', port });
    const written = new Promise<void>((resolve) => {
      const w = watch(path.dirname(out), () => existsSync(out) && readFileSync(out, 'utf8').endsWith('\n') && (w.close(), resolve()));
    });
    await pm.service.register({ name: 'al-b', port });
    await written;
    const event = JSON.parse(readFileSync(out, 'utf8')) as PortmandEvent<'conflict_detected'>;
    expect(event).toMatchObject({
      type: 'conflict_detected',
      seq: expect.any(Number),
      data: { type: 'duplicate_assignment', severity: 'critical', port, services: ['al-a', 'al-b'] },
    });
  });

  it('a webhook on a loopback server receives a health transition', async () => {
    const srv = http.createServer((_q, r) => r.writeHead(200).end());
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as net.AddressInfo).port;
    const got = new Promise<void>((resolve) => onReceived.push(resolve));
    await pm.service.register({ name: 'al-web', port, healthCheck: { type: 'http', url: `http://127.0.0.1:${port}/` } });
    await pm.health.check({ service: 'al-web' });
    await got;
    expect(received.find((e) => e.type === 'service_health')).toMatchObject({
      data: { service: 'al-web', status: 'healthy', previous: 'registered' },
    });
    srv.close();
  });

  it('a webhook that hangs delays nothing, and its failure is an alert_failed event after the retries', async () => {
    const port = (await pm.port.suggest({ count: 1 })).ports[0]!;
    await pm.service.register({ name: 'al-gone', port });
    await pm.service.unregister({ name: 'al-gone' }); // port_released: the hanging webhook starts
    // Requests are answered while it hangs (and retries).
    for (let i = 0; i < 5; i++) expect(await pm.daemon.ping()).toBe('pong');
    expect(failed.some((x) => x.data.alert === 'alerts[2]')).toBe(false); // answered before the alert gave up
    await d.waitForLog((r) => r.msg === 'alert failed' && r.alert === 'alerts[2]');
    const e = await new Promise<PortmandEvent<'alert_failed'>>((resolve) => {
      const seen = () => failed.find((x) => x.data.alert === 'alerts[2]');
      const check = () => (seen() ? resolve(seen()!) : setImmediate(check));
      check();
    });
    expect(e.data.error).toBe('webhook: no answer within 100 ms (after 3 attempts)');
  });
});
