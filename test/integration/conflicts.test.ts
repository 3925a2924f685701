import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { createInterface } from 'node:readline';
import { beforeAll, describe, expect, it } from 'vitest';
import type { PortmandClient, PortmandEvent, EventType, Conflict } from '../../client/client.ts';
import { CLI, holdoffScans, useDaemon, type Daemon } from './harness.ts';

// Scans run every second (PORTMAND_SCAN_INTERVAL=1 in the harness). Only the first test waits
// for one; the others scan now (conflict.detect), which reconciles the same way.
let d: Daemon;
let pm: PortmandClient;
let watcher: PortmandClient;
const seen: PortmandEvent[] = [];
const waiters: Array<{ match: (e: PortmandEvent) => boolean; resolve: (e: PortmandEvent) => void }> = [];

const daemon = useDaemon();
beforeAll(async () => {
  d = daemon();
  // Registers as an operator would (no pid): the listeners this test process opens are then not the owner's.
  pm = d.client({ sendPid: false });
  watcher = d.client();
  await watcher.events.subscribe({});
  watcher.on('*', (e) => {
    seen.push(e);
    for (const w of [...waiters]) if (w.match(e)) (waiters.splice(waiters.indexOf(w), 1), w.resolve(e));
  });
});

function nextEvent<T extends EventType>(type: T, match: (data: PortmandEvent<T>['data']) => boolean): Promise<PortmandEvent<T>> {
  const m = (e: PortmandEvent) => e.type === type && match(e.data as PortmandEvent<T>['data']);
  const old = seen.find(m);
  if (old) return Promise.resolve(old as PortmandEvent<T>);
  return new Promise((resolve) => waiters.push({ match: m, resolve: resolve as (e: PortmandEvent) => void }));
}

async function listen(port = 0): Promise<net.Server> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(port, '127.0.0.1', () => r()));
  return s;
}
const portOf = (s: net.Server) => (s.address() as net.AddressInfo).port;
const close = (s: net.Server) => new Promise((r) => s.close(r));

/**
 * Registers a service owned by "nginx" and starts a foreign listener (this node process) on its
 * port; the conflict is found by a scan now, or by the schedule's next one.
 */
async function foreignOn(
  name: string,
  scan: 'now' | 'scheduled' = 'now',
): Promise<{ server: net.Server; port: number; conflict: Conflict }> {
  const server = await listen();
  const port = portOf(server);
  const detected = nextEvent('conflict_detected', (c) => c.port === port && c.type === 'foreign_listener');
  await pm.service.register({ name, port, process: 'nginx' });
  if (scan === 'now') await pm.conflict.detect();
  const conflict = (await detected).data;
  return { server, port, conflict };
}

describe('scanner and reconciliation', () => {
  it('a foreign listener on a registered port is detected by the scan schedule and pushed to subscribers', async () => {
    const { server, port, conflict } = await foreignOn('sched-web', 'scheduled');
    expect(conflict).toMatchObject({
      type: 'foreign_listener',
      severity: 'critical',
      services: ['sched-web'],
      resolvedAt: null,
      listener: { pid: process.pid },
    });
    expect((await pm.conflict.list()).map((c) => c.id)).toContain(conflict.id);
    const status = await pm.daemon.status();
    expect(status.lastScan?.listeners).toBeGreaterThan(0);
    // Opened once, not once per scan: after another scan there is still exactly one.
    await pm.conflict.detect();
    expect((await pm.conflict.list()).filter((c) => c.port === port)).toHaveLength(1);
    await close(server);
  });

  it('a conflict closes as vanished when the foreign listener goes away', async () => {
    const { server, conflict } = await foreignOn('vanish-web');
    const resolved = nextEvent('conflict_resolved', (c) => c.id === conflict.id);
    await close(server);
    await pm.conflict.detect();
    const ended = (await resolved).data;
    expect(ended.resolvedAt).not.toBeNull();
    expect(ended.outcome).toBe('vanished');
    const history = await pm.conflict.history({});
    expect(history.find((c) => c.id === conflict.id)?.outcome).toBe('vanished');
  });

  it('an unregistered listener shows in port.list as listening with its process', async () => {
    const server = await listen();
    await pm.conflict.detect();
    const info = await pm.port.get({ port: portOf(server) });
    expect(info).toMatchObject({ state: 'listening', listener: { pid: process.pid } });
    await close(server);
  });

  it('a service registered without an owner adopts the first process seen listening on its port', async () => {
    const server = await listen();
    await pm.service.register({ name: 'adopter', port: portOf(server) });
    await pm.conflict.detect();
    expect((await pm.service.get({ name: 'adopter' })).pid).toBe(process.pid);
    expect((await pm.conflict.list()).filter((c) => c.services.includes('adopter'))).toEqual([]);
    await close(server);
  });
});

describe('one process serving two registered ports', () => {
  it('is adopted by both services, and is no foreign listener on either', async () => {
    const script =
      "const net = require('net'); const a = net.createServer().listen(0, '127.0.0.1', () => { const b = net.createServer().listen(0, '127.0.0.1', () => console.log(a.address().port, b.address().port)); });";
    const child = spawn(process.execPath, ['-e', script]);
    try {
      const line = await new Promise<string>((resolve) => createInterface({ input: child.stdout }).once('line', resolve));
      const [web, admin] = line.split(' ').map(Number);
      await pm.service.register({ name: 'two-web', port: web! });
      await pm.service.register({ name: 'two-web-admin', port: admin! });
      await pm.conflict.detect();
      expect((await pm.service.get({ name: 'two-web' })).pid).toBe(child.pid);
      expect((await pm.service.get({ name: 'two-web-admin' })).pid).toBe(child.pid);
      expect((await pm.conflict.list()).filter((c) => c.services.some((n) => n.startsWith('two-web')))).toEqual([]);
    } finally {
      child.kill();
    }
  });
});

describe('drift', () => {
  it("a service's own process listening on another port opens drift; auto moves the registration there", async () => {
    const wanted = await listen();
    const registered = portOf(wanted);
    await close(wanted);
    // The service's process: a child that listens on a port of its own choosing.
    const child = spawn(process.execPath, [
      '-e',
      "const s = require('net').createServer().listen(0, '127.0.0.1', () => console.log(s.address().port))",
    ]);
    const actual = Number(await new Promise<string>((resolve) => createInterface({ input: child.stdout }).once('line', resolve)));
    try {
      const detected = nextEvent('conflict_detected', (c) => c.type === 'drift' && c.services.includes('drifter'));
      await pm.service.register({ name: 'drifter', port: registered, pid: child.pid! });
      const conflict = (await detected).data;
      expect(conflict).toMatchObject({
        port: registered,
        severity: 'warning',
        listener: { pid: child.pid, address: `127.0.0.1:${actual}` },
      });
      const r = await pm.conflict.resolve({ conflictId: conflict.id, strategy: 'auto' });
      expect(r).toMatchObject({ from: registered, to: actual });
      expect((await pm.service.get({ name: 'drifter' })).port).toBe(actual);
    } finally {
      child.kill();
    }
  });
});

describe('owner processes', () => {
  it('a registered service whose process dies is marked stopped after the hold-off, with a service_health event; a lease is reclaimed', async () => {
    const spawnOwner = () => spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)']);
    const owner = spawnOwner();
    const leaseOwner = spawnOwner();
    await pm.service.register({ name: 'mortal', port: 18960, pid: owner.pid! });
    const lease = await pm.port.allocate({ service: 'mortal-lease', pid: leaseOwner.pid! });
    const stopped = nextEvent('service_health', (h) => h.service === 'mortal');
    const reclaimed = nextEvent('port_released', (r) => r.service === 'mortal-lease');
    owner.kill('SIGKILL');
    leaseOwner.kill('SIGKILL');
    await Promise.all([once(owner, 'exit'), once(leaseOwner, 'exit')]);
    await holdoffScans(pm);
    expect((await stopped).data).toEqual({ service: 'mortal', status: 'stopped', previous: 'registered' });
    expect((await reclaimed).data.port).toBe(lease.port);
    expect((await pm.service.get({ name: 'mortal' })).status).toBe('stopped');
    // Registering again (the service restarted) starts over.
    expect((await pm.service.register({ name: 'mortal', port: 18960, pid: process.pid })).status).toBe('registered');
  });
});

describe('conflict.resolve strategies', () => {
  it('auto moves the service to a free port and emits port_assigned and conflict_resolved', async () => {
    const { server, port, conflict } = await foreignOn('auto-web');
    const assigned = nextEvent('port_assigned', (a) => a.service === 'auto-web' && a.previous === port);
    const resolved = nextEvent('conflict_resolved', (c) => c.id === conflict.id);
    const r = await pm.conflict.resolve({ service: 'auto-web', strategy: 'auto' });
    expect(r.from).toBe(port);
    expect(r.to).not.toBe(port);
    expect(r.service?.port).toBe(r.to);
    expect((await assigned).data.port).toBe(r.to);
    expect((await resolved).data).toMatchObject({ outcome: 'resolved', resolution: { strategy: 'auto', from: port, to: r.to } });
    await close(server);
  });

  it('manual moves to the given port, and refuses a port that is in use with -32002', async () => {
    const { server, conflict } = await foreignOn('manual-web');
    const busy = await listen();
    await expect(pm.conflict.resolve({ conflictId: conflict.id, strategy: 'manual', newPort: portOf(busy) })).rejects.toMatchObject({
      code: -32002,
    });
    await expect(pm.conflict.resolve({ conflictId: conflict.id, strategy: 'manual' })).rejects.toMatchObject({
      code: -32602,
      data: { field: 'newPort' },
    });
    const target = portOf(busy) + 1;
    await close(busy);
    const free = (await pm.port.check({ port: target })).available ? target : (await pm.port.suggest({ count: 1 })).ports[0]!;
    const resolved = nextEvent('conflict_resolved', (c) => c.id === conflict.id);
    const r = await pm.conflict.resolve({ conflictId: conflict.id, strategy: 'manual', newPort: free });
    expect(r.to).toBe(free);
    expect((await resolved).data.resolution).toMatchObject({ strategy: 'manual', to: free });
    await close(server);
  });

  it('swap exchanges the ports of two services', async () => {
    const { server, port, conflict } = await foreignOn('swap-a');
    const other = await pm.port.allocate({ service: 'swap-b' });
    const resolved = nextEvent('conflict_resolved', (c) => c.id === conflict.id);
    const toB = nextEvent('port_assigned', (a) => a.service === 'swap-b' && a.port === port);
    const r = await pm.conflict.resolve({ service: 'swap-a', strategy: 'swap', withService: 'swap-b' });
    expect(r).toMatchObject({ from: port, to: other.port });
    expect((await pm.service.get({ name: 'swap-b' })).port).toBe(port);
    await toB;
    expect((await resolved).data.resolution?.strategy).toBe('swap');
    await expect(pm.conflict.resolve({ service: 'swap-a', strategy: 'swap', withService: 'ghost' })).rejects.toMatchObject({
      code: -32001,
    });
    await close(server);
  });

  it('reserve keeps the port for the service and acknowledges the conflict until the listener leaves', async () => {
    const { server, port, conflict } = await foreignOn('reserve-web');
    const r = await pm.conflict.resolve({ conflictId: conflict.id, strategy: 'reserve' });
    expect(r.conflict).toMatchObject({ acknowledged: true, resolvedAt: null });
    expect(await pm.port.get({ port })).toMatchObject({ reservedFor: 'reserve-web' });
    await pm.conflict.detect();
    expect((await pm.conflict.list()).filter((c) => c.port === port).map((c) => c.type)).toEqual(['foreign_listener']);
    const resolved = nextEvent('conflict_resolved', (c) => c.id === conflict.id);
    await close(server);
    await pm.conflict.detect();
    expect((await resolved).data).toMatchObject({ outcome: 'resolved', resolution: { strategy: 'reserve' } });
  });

  it('resolving an unknown conflict is -32001; a closed one is -32006', async () => {
    await expect(pm.conflict.resolve({ conflictId: 'c999999', strategy: 'auto' })).rejects.toMatchObject({ code: -32001 });
    const closed = (await pm.conflict.history({})).find((c) => c.resolvedAt !== null)!;
    await expect(pm.conflict.resolve({ conflictId: closed.id, strategy: 'auto' })).rejects.toMatchObject({ code: -32006 });
  });
});

describe('CLI: conflicts, resolve, watch', () => {
  it('conflicts lists open ones, resolve moves the service, conflicts --all shows history', async () => {
    const { server, port } = await foreignOn('cli-conf');
    const list = await d.cliInProcess(['conflicts', '--json']);
    expect((JSON.parse(list.stdout) as Conflict[]).some((c) => c.port === port)).toBe(true);
    const human = await d.cliInProcess(['conflicts']);
    expect(human.stdout).toContain('foreign_listener');
    const r = await d.cliInProcess(['resolve', 'cli-conf', '--strategy', 'auto', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ from: port });
    const all = await d.cliInProcess(['conflicts', '--all', '--json']);
    expect((JSON.parse(all.stdout) as Conflict[]).find((c) => c.port === port && c.resolvedAt !== null)).toBeDefined();
    await close(server);
  });

  it('watch --json streams events as NDJSON', async () => {
    const child = spawn(process.execPath, [CLI, 'watch', '--json'], { env: { ...process.env, ...d.env } });
    const lines = createInterface({ input: child.stdout });
    const first = new Promise<PortmandEvent>((resolve) =>
      lines.on('line', (l) => {
        const e = JSON.parse(l) as PortmandEvent;
        if (e.type === 'service_registered' && (e.data as { name: string }).name === 'watched') resolve(e);
      }),
    );
    // watch says on stderr once it is subscribed; anything else there (an error: it then exits) fails the test with it,
    // rather than leaving it to wait out the test's timeout for an event nobody is watching for.
    const said: string[] = [];
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code) => reject(new Error(`watch exited ${code}: ${said.join('\n')}`))),
    );
    exited.catch(() => {}); // it exits once killed at the end, too
    await Promise.race([
      new Promise<void>((resolve) =>
        createInterface({ input: child.stderr }).on('line', (l) => {
          said.push(l);
          if (l.includes('watching ')) resolve();
        }),
      ),
      exited,
    ]);
    await pm.service.register({ name: 'watched', port: 18700 });
    const e = await Promise.race([first, exited]);
    expect(e).toMatchObject({ type: 'service_registered', seq: expect.any(Number), time: expect.any(String) });
    expect(e.data).toMatchObject({ name: 'watched', port: 18700 });
    child.kill('SIGINT');
  });
});
