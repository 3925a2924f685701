import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { PortmandClient, PortmandError, getPort } from '../../client/client.ts';
import { BROWSER_UNSAFE_PORTS } from '../../daemon/core/allocate.ts';
import { useDaemon, type Daemon } from './harness.ts';

const daemon = useDaemon();
let d: Daemon;
let pm: PortmandClient;
beforeAll(() => {
  d = daemon();
  pm = d.client();
});

function listen(port: number, host: string): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(port, host, () => resolve(s));
  });
}

/** A port the OS says is free right now, for tests that need a known-free port to occupy. */
async function freePort(): Promise<number> {
  const s = await listen(0, '127.0.0.1');
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function expectError(p: Promise<unknown>, code: number): Promise<PortmandError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PortmandError);
  expect((err as PortmandError).code).toBe(code);
  return err as PortmandError;
}

describe('port.allocate guarantees', () => {
  it('200 concurrent clients on their own connections all get distinct ports', async () => {
    const clients = Array.from({ length: 200 }, () => d.client());
    const results = await Promise.all(clients.map((c, i) => c.port.allocate({ service: `worker-${i}` })));
    const ports = results.map((r) => r.port);
    expect(new Set(ports).size).toBe(200);
    for (const c of clients) c.close();
  });

  it('16 parallel getPort() callers get 16 distinct ports (the get-port race)', async () => {
    const ports = await Promise.all(Array.from({ length: 16 }, (_, i) => getPort(`jest-${i}`, { socketPath: d.socket })));
    expect(new Set(ports).size).toBe(16);
  });

  it('never hands out a port a real server listens on, IPv4 or IPv6, even before a scan sees it', async () => {
    const p4 = await freePort();
    const server4 = await listen(p4, '127.0.0.1');
    await expectError(pm.port.allocate({ service: 'only-v4', range: `${p4}-${p4}` }), -32003);
    const got = await pm.port.allocate({ service: 'pref-v4', preferred: p4 });
    expect(got.port).not.toBe(p4);

    const p6 = await freePort();
    const server6 = await listen(p6, '::1');
    const e = await expectError(pm.port.allocate({ service: 'only-v6', range: `${p6}-${p6}` }), -32003);
    expect(e.data).toMatchObject({ range: `${p6}-${p6}` });
    server4.close();
    server6.close();
  });

  it('a udp allocation skips a bound udp socket', async () => {
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    const port = sock.address().port;
    await expectError(pm.port.allocate({ service: 'dns-test', protocol: 'udp', range: `${port}-${port}` }), -32003);
    // The same number is still free for tcp.
    const tcp = await pm.port.check({ port, protocol: 'tcp' });
    expect(tcp.available).toBe(true);
    sock.close();
  });

  it('the same service asking again gets the same port back', async () => {
    const a = await pm.port.allocate({ service: 'sticky' });
    const b = await pm.port.allocate({ service: 'sticky' });
    expect(b.port).toBe(a.port);
  });

  it('never hands out a port another service holds or a reserved port', async () => {
    const base = await freePort();
    await pm.service.register({ name: 'holder', port: base });
    await pm.port.reserve({ port: base + 1, for: 'someone', reason: 'test' });
    const got = await pm.port.allocate({ service: 'newcomer', range: `${base}-${base + 2}` });
    expect(got.port).toBe(base + 2);
  });

  it('keeps default allocations out of the ephemeral range and off browser-unsafe ports', async () => {
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => pm.port.allocate({ service: `eph-${i}` })));
    for (const { port } of results) {
      expect(port >= lo! && port <= hi!).toBe(false);
      expect(BROWSER_UNSAFE_PORTS.has(port)).toBe(false);
      expect(port).toBeGreaterThanOrEqual(1024);
    }
  });

  it('a lease with ttlSec expires and its port is released with an event', async () => {
    const watcher = d.client();
    await watcher.events.subscribe({ types: ['port_released'] });
    const released = new Promise<{ port: number; service?: string }>((resolve) =>
      watcher.on('port_released', (e) => {
        if (e.data.service === 'short-lease') resolve(e.data);
      }),
    );
    const lease = await pm.port.allocate({ service: 'short-lease', ttlSec: 1 });
    expect(lease.expiresAt).toBeDefined();
    expect(await released).toEqual({ port: lease.port, service: 'short-lease' });
    await expectError(pm.service.get({ name: 'short-lease' }), -32001);
  });
});

describe('check, suggest, reserve, release, list', () => {
  it('check names what holds a port', async () => {
    const port = await freePort();
    const server = await listen(port, '0.0.0.0');
    const r = await pm.port.check({ port });
    expect(r).toMatchObject({ port, available: false });
    server.close();
    await pm.service.register({ name: 'checked', port });
    expect(await pm.port.check({ port })).toMatchObject({ available: false, reason: 'assigned', heldBy: { service: 'checked' } });
  });

  it('suggest proposes free ports without allocating them', async () => {
    const base = await freePort();
    const { ports } = await pm.port.suggest({ count: 3, range: `${base}-${base + 50}` });
    expect(ports).toHaveLength(3);
    const again = await pm.port.suggest({ count: 3, range: `${base}-${base + 50}` });
    expect(again.ports).toEqual(ports);
  });

  it('reserve then release frees the port, and release of a free port says released: false', async () => {
    const port = await freePort();
    const info = await pm.port.reserve({ port, for: 'postgres', reason: 'db' });
    expect(info).toMatchObject({ port, state: 'reserved', reservedFor: 'postgres' });
    expect((await pm.port.get({ port })).state).toBe('reserved');
    expect(await pm.port.release({ port })).toEqual({ port, released: true });
    expect((await pm.port.get({ port })).state).toBe('free');
    expect(await pm.port.release({ port })).toEqual({ port, released: false, reason: 'nothing holds it' });
  });

  it('reserving a port another service holds is refused with -32002 and heldBy', async () => {
    const port = await freePort();
    await pm.service.register({ name: 'owner-a', port });
    const e = await expectError(pm.port.reserve({ port, for: 'other' }), -32002);
    expect(e.data).toMatchObject({ port, heldBy: { service: 'owner-a' } });
  });

  it('port.list shows assigned and reserved ports; range.list the built-in ranges', async () => {
    const list = await pm.port.list({ state: 'assigned' });
    expect(list.some((p) => p.service === 'sticky')).toBe(true);
    expect(list.every((p) => p.state === 'assigned')).toBe(true);
    const ranges = await pm.range.list();
    expect(ranges.map((r) => r.name)).toEqual(['system', 'registered', 'dynamic']);
  });
});

describe('reservations for a service, ranges, hosts', () => {
  it('a port reserved for a service is the one it gets, and the one it may move to; others never get it', async () => {
    const port = await freePort();
    await pm.port.reserve({ port, for: 'pg' });
    await expectError(pm.port.allocate({ service: 'intruder', range: `${port}-${port}` }), -32003);
    expect((await pm.port.allocate({ service: 'pg' })).port).toBe(port);
    const other = await freePort();
    await pm.port.reserve({ port: other, for: 'cache' });
    await pm.port.allocate({ service: 'cache', preferred: await freePort() });
    expect((await pm.service.setPort({ name: 'cache', port: other })).port).toBe(other);
  });

  it('reserving again keeps what was not given', async () => {
    const port = await freePort();
    await pm.port.reserve({ port, for: 'pgb', reason: 'pool' });
    expect(await pm.port.reserve({ port, ttlSec: 3600 })).toMatchObject({
      reservedFor: 'pgb',
      reason: 'pool',
      expiresAt: expect.any(String),
    });
  });

  it('release says which services it unregistered, or why it released nothing', async () => {
    const { port } = await pm.port.allocate({ service: 'rel-a' });
    expect(await pm.port.release({ port, service: 'rel-b' })).toEqual({ port, released: false, reason: 'held by rel-a, not rel-b' });
    expect(await pm.port.release({ port })).toEqual({ port, released: true, unregistered: ['rel-a'] });
  });

  it('registering again with the same range keeps the port; allocate with a range the held port is outside of is refused', async () => {
    const base = await freePort();
    const range = `${base}-${base + 20}`;
    const first = await pm.service.register({ name: 'ranged', range });
    const again = await pm.service.register({ name: 'ranged', range });
    expect(again.port).toBe(first.port);
    const e = await expectError(pm.port.allocate({ service: 'ranged', range: '20000-20001' }), -32602);
    expect(e.data).toMatchObject({ field: 'range', problem: expect.stringContaining(`already holds port ${first.port}`) });
  });

  it('a host must be an IP address', async () => {
    const e = await expectError(pm.port.check({ port: 12345, host: 'notanip' }), -32602);
    expect(e.data).toMatchObject({ field: 'host' });
  });

  it('changing only the protocol releases the old port and assigns the new one', async () => {
    const watcher = d.client();
    await watcher.events.subscribe({ types: ['port_released', 'port_assigned'] });
    const seen: string[] = [];
    const done = new Promise<void>((resolve) =>
      watcher.on('*', (e) => {
        if ((e.data as { service?: string }).service !== 'proto-flip') return;
        seen.push(`${e.type}:${JSON.stringify(e.data)}`);
        if (e.type === 'port_assigned' && seen.length === 3) resolve();
      }),
    );
    const port = await freePort();
    await pm.service.register({ name: 'proto-flip', port, protocol: 'udp' });
    await pm.service.register({ name: 'proto-flip', port, protocol: 'tcp' });
    await done;
    expect(seen).toEqual([
      `port_assigned:${JSON.stringify({ service: 'proto-flip', port })}`,
      `port_released:${JSON.stringify({ port, service: 'proto-flip' })}`,
      `port_assigned:${JSON.stringify({ service: 'proto-flip', port })}`,
    ]);
  });
});

describe('services', () => {
  it('registering an explicit port another service holds opens a duplicate_assignment conflict; exclusive refuses', async () => {
    const port = await freePort();
    await pm.service.register({ name: 'dup-a', port });
    const b = await pm.service.register({ name: 'dup-b', port });
    expect(b.conflicts?.[0]).toMatchObject({ type: 'duplicate_assignment', port, services: ['dup-a', 'dup-b'], resolvedAt: null });
    const e = await expectError(pm.service.register({ name: 'dup-c', port, exclusive: true }), -32002);
    expect(e.data).toMatchObject({ port, heldBy: { service: expect.stringMatching(/^dup-/) } });
    await expectError(pm.service.get({ name: 'dup-c' }), -32001);
  });

  it('moving or unregistering a service off a shared port closes the duplicate at once, without a scan', async () => {
    const port = await freePort();
    await pm.service.register({ name: 'left-a', port });
    const opened = await pm.service.register({ name: 'left-b', port });
    const id = opened.conflicts![0]!.id;
    await pm.service.setPort({ name: 'left-b', port: await freePort() });
    expect((await pm.conflict.history({})).find((c) => c.id === id)).toMatchObject({ outcome: 'vanished' });
    await pm.service.register({ name: 'left-c', port });
    const again = (await pm.conflict.list()).find((c) => c.port === port)!;
    expect(again.services).toEqual(['left-a', 'left-c']);
    await pm.service.unregister({ name: 'left-a' });
    expect((await pm.conflict.list()).filter((c) => c.port === port)).toEqual([]);
  });

  it('resolving one of three services off a shared port keeps the conflict open for the other two', async () => {
    const port = await freePort();
    for (const name of ['tri-a', 'tri-b', 'tri-c']) await pm.service.register({ name, port });
    const r = await pm.conflict.resolve({ service: 'tri-c', strategy: 'auto' });
    expect(r.conflict).toMatchObject({ resolvedAt: null, services: ['tri-a', 'tri-b'] });
    const open = (await pm.conflict.list()).filter((c) => c.port === port);
    expect(open).toMatchObject([{ id: r.conflict!.id, services: ['tri-a', 'tri-b'] }]);
    const last = await pm.conflict.resolve({ service: 'tri-b', strategy: 'auto' });
    expect(last.conflict).toMatchObject({ id: r.conflict!.id, outcome: 'resolved' });
    expect((await pm.conflict.list()).filter((c) => c.port === port)).toEqual([]);
  });

  it('setPort moves a service and emits port_assigned; unregister releases its port', async () => {
    const watcher = d.client();
    await watcher.events.subscribe({ types: ['port_assigned'] });
    const { port } = await pm.port.allocate({ service: 'mover' });
    const target = await freePort();
    const assigned = new Promise((resolve) =>
      watcher.on('port_assigned', (e) => e.data.service === 'mover' && e.data.port === target && resolve(e.data)),
    );
    const moved = await pm.service.setPort({ name: 'mover', port: target });
    expect(moved.port).toBe(target);
    expect(await assigned).toEqual({ service: 'mover', port: target, previous: port });
    expect(await pm.service.unregister({ name: 'mover' })).toEqual({ name: 'mover', releasedPorts: [target] });
  });

  it('every change and every refused change leaves an audit record in the log', async () => {
    await pm.service.register({ name: 'audited', port: 18950 });
    await expect(pm.service.unregister({ name: 'never-was' })).rejects.toMatchObject({ code: -32001 });
    const ok = await d.waitForLog(
      (r) => r.audit === true && r.method === 'service.register' && (r.params as { name?: string }).name === 'audited',
    );
    expect(ok).toMatchObject({ ok: true, conn: expect.any(Number) });
    const refused = await d.waitForLog(
      (r) => r.audit === true && r.method === 'service.unregister' && (r.params as { name?: string }).name === 'never-was',
    );
    expect(refused).toMatchObject({ ok: false, code: -32001 });
  });

  it('bad params are refused with field and problem, and change nothing', async () => {
    const before = await pm.service.list();
    const e = await expectError(pm.service.register({ name: 'Bad Name!', port: 80 }), -32602);
    expect(e.data).toMatchObject({ field: 'name' });
    const e2 = await expectError(pm.call('port.allocate', { service: 'ok', preferred: 70000 } as never), -32602);
    expect(e2.data).toMatchObject({ field: 'preferred', problem: expect.stringContaining('1..65535') });
    const e3 = await expectError(pm.call('port.allocate', { service: 'ok', range: 'nope' } as never), -32602);
    expect(e3.data).toMatchObject({ field: 'range' });
    expect(await pm.service.list()).toEqual(before);
  });
});

describe('suggest confirms with a bind probe', () => {
  // No scan after the first: a listener opened now is known only to the bind probe.
  const quiet = useDaemon({ env: { PORTMAND_SCAN_INTERVAL: '3600' } });

  /** The first of `n` consecutive ports that can all be bound right now, found by trying. */
  async function freeRun(n: number): Promise<number> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const base = await freePort();
      if (base + n - 1 > 65535) continue;
      const held: net.Server[] = [];
      try {
        for (let i = 0; i < n; i++) held.push(await listen(base + i, '127.0.0.1'));
        return base;
      } catch {
        // One was taken; try elsewhere.
      } finally {
        await Promise.all(held.map((s) => new Promise((r) => s.close(r))));
      }
    }
    throw new Error(`no ${n} consecutive free ports found`);
  }

  it('skips ports a process listens on that no scan has seen yet', async () => {
    const base = await freeRun(10);
    const servers = [await listen(base, '127.0.0.1'), await listen(base + 1, '127.0.0.1')];
    try {
      const { ports } = await quiet()
        .client()
        .port.suggest({ count: 3, range: `${base}-${base + 9}` });
      expect(ports).toEqual([base + 2, base + 3, base + 4]);
    } finally {
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    }
  });
});
