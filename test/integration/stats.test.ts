import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PortmandClient } from '../../client/client.ts';
import { LIMITS, type PortState } from '../../client/protocol.ts';
import { cleanup, tempDir, useDaemon } from './harness.ts';

// A configured range below the OS ephemeral ports, so that no stray test listener lands in it.
const RANGE = { name: 'st', start: 23400, end: 23419, purpose: 'stats test' };
const configDir = tempDir();
const configFile = path.join(configDir, 'config.json');
writeFileSync(configFile, JSON.stringify({ ranges: [RANGE] }));

// Health checks run only when asked.
const daemon = useDaemon({ env: { PORTMAND_CONFIG: configFile, PORTMAND_HEALTH_INTERVAL: '3600' } });
let pm: PortmandClient;
const closers: Array<() => unknown> = [];

beforeAll(() => {
  pm = daemon().client({ sendPid: false });
});
afterAll(async () => {
  for (const close of closers.splice(0)) await close();
  cleanup(configDir);
});

async function listen(port: number): Promise<net.Server> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  closers.push(() => new Promise((r) => server.close(r)));
  return server;
}

/** A live process that listens nowhere: an owner pid that causes no drift or foreign-listener conflict. */
function idleProcess(): number {
  const child: ChildProcess = spawn('sleep', ['600'], { stdio: 'ignore' });
  closers.push(() => child.kill());
  return child.pid!;
}

describe('stats.ports', () => {
  it('counts assigned, reserved, listening and free ports of a configured range, adding up to its size', async () => {
    await pm.port.allocate({ service: 'st-a', range: 'st' });
    await pm.port.allocate({ service: 'st-b', range: 'st' });
    await pm.service.register({ name: 'st-c', port: 23405 });
    await pm.port.reserve({ port: 23410, for: 'later' });
    await listen(23415);
    await pm.conflict.detect(); // a scan now, so the listener is in the latest one

    const { ranges } = await pm.stats.ports();
    expect(ranges.map((r) => r.name)).toEqual(expect.arrayContaining(['system', 'registered', 'dynamic', 'st']));
    const st = ranges.find((r) => r.name === 'st')!;
    expect(st).toMatchObject({ start: 23400, end: 23419, size: 20, assigned: 3, reserved: 1, listening: 1, free: 15 });
    expect(st.utilisation).toBeCloseTo(5 / 20, 9);
    // Three ports assigned within the last 7 days, none given up.
    expect(st.trendPerDay).toBeCloseTo(3 / 7, 9);
    // Seconds of history are no basis for a date (issue 6: "FULL BY 2488-01-11"): none, and how much there is.
    // The forecast reads the hourly series: a daemon minutes old has no day of history yet.
    expect(st.exhaustsAt).toBeNull();
    expect(st.historySec).toBeLessThan(LIMITS.forecastMinHistorySec);

    // The same counts as port.list's view of the range.
    const listed = await pm.port.list({ range: 'st' });
    const count = (state: PortState) => new Set(listed.filter((i) => i.state === state).map((i) => i.port)).size;
    expect([st.assigned, st.reserved, st.listening]).toEqual([count('assigned'), count('reserved'), count('listening')]);
    for (const r of ranges) expect(r.assigned + r.reserved + r.listening + r.free).toBe(r.size);
  });

  it('takes no params', async () => {
    await expect(pm.call('stats.ports', { range: 'st' } as never)).rejects.toMatchObject({ code: -32602 });
  });
});

describe('stats.services', () => {
  it('a service health-checked healthy has uptime in the last hour, its latency and no restarts', async () => {
    const server = http.createServer((_req, res) => res.writeHead(200).end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    closers.push(() => new Promise((r) => server.close(r)));
    const port = (server.address() as net.AddressInfo).port;
    await pm.service.register({ name: 'web-s', port, healthCheck: { type: 'http', url: `http://127.0.0.1:${port}/` } });
    const before = (await pm.stats.services()).services.find((s) => s.name === 'web-s')!;
    expect(before.uptime).toEqual({ '1h': null, '24h': null, '7d': null }); // registered, not judged yet
    expect((await pm.health.check({ service: 'web-s' }))[0]).toMatchObject({ status: 'healthy' });

    const stats = await pm.stats.services();
    const web = stats.services.find((s) => s.name === 'web-s')!;
    expect(web.uptime['1h']).toBeGreaterThan(0);
    expect(web.meanLatencyMs).toEqual(expect.any(Number));
    expect(web).toMatchObject({ restarts: 0, portChanges: 0 });
    const listed = await pm.service.list();
    expect(stats.byStatus.healthy).toBe(listed.filter((s) => s.status === 'healthy').length);
    expect(Object.values(stats.byStatus).reduce((a, b) => a + b, 0)).toBe(listed.length);
  });

  it('a new owner pid is a restart; a move to another port is a port change', async () => {
    await pm.service.register({ name: 'job-s', port: 23500, pid: idleProcess() });
    await pm.service.register({ name: 'job-s', port: 23500, pid: idleProcess() });
    await pm.service.setPort({ name: 'job-s', port: 23501 });
    const job = (await pm.stats.services()).services.find((s) => s.name === 'job-s')!;
    expect(job).toMatchObject({ restarts: 1, portChanges: 1, meanLatencyMs: null, uptime: { '1h': null } });
  });
});

describe('stats.conflicts', () => {
  it('counts a duplicate assignment while open, and once resolved, with its time to resolve and its port', async () => {
    const empty = await pm.stats.conflicts();
    expect(empty.byType.duplicate_assignment).toBe(0);
    await pm.service.register({ name: 'dup-a', port: 23600 });
    const b = await pm.service.register({ name: 'dup-b', port: 23600 });
    expect(b.conflicts).toHaveLength(1);
    const open = await pm.stats.conflicts();
    expect(open).toMatchObject({ open: (await pm.conflict.list()).length, resolved: 0 });
    expect(open.byType.duplicate_assignment).toBe(1);
    expect(open.bySeverity.critical).toBeGreaterThanOrEqual(1);
    expect(open.meanTimeToResolveSec).toBeNull();

    await pm.conflict.resolve({ service: 'dup-b', strategy: 'auto' });
    const after = await pm.stats.conflicts();
    expect(after).toMatchObject({ open: open.open - 1, resolved: 1 });
    expect(after.meanTimeToResolveSec).toBeGreaterThanOrEqual(0);
    expect(after.topPorts).toContainEqual({ port: 23600, count: 1 });
  });
});

describe('portmand stats', () => {
  it('--json prints { ports, services, conflicts }; without it, three tables', async () => {
    const json = await daemon().cliInProcess(['stats', '--json']);
    expect(json.code).toBe(0);
    const out = JSON.parse(json.stdout) as {
      ports: { ranges: Array<{ name: string }> };
      services: { services: Array<{ name: string }> };
      conflicts: { resolved: number };
    };
    expect(out.ports.ranges.map((r) => r.name)).toContain('st');
    expect(out.services.services.map((s) => s.name)).toContain('web-s');
    expect(out.conflicts.resolved).toBe(1);

    const text = await daemon().cliInProcess(['stats']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^Ports\n/);
    expect(text.stdout).toMatch(/^st\s+23400-23419\s+3\s+1\s+1\s+15\s+25\.0%/m);
    expect(text.stdout).toMatch(/^web-s\s+100\.0%/m);
    expect(text.stdout).toMatch(/^resolved:\s+1$/m);
  });
});

describe('one order of names', () => {
  it('service.list and stats.services order a-c, a1, a_b the same way: by character code', async () => {
    // Registered in another order, so neither method can pass on insertion order.
    for (const name of ['a_b', 'a1', 'a-c']) await pm.service.register({ name, range: '30000-30099' });
    const mine = (names: string[]) => names.filter((n) => ['a_b', 'a-c', 'a1'].includes(n));
    const listed = mine((await pm.service.list()).map((s) => s.name));
    const stats = mine((await pm.stats.services()).services.map((s) => s.name));
    expect(listed).toEqual(['a-c', 'a1', 'a_b']);
    expect(stats).toEqual(listed);
  });
});
