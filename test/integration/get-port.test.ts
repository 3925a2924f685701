// portmand/get-port and the named getPort's get-port options, against the
// real daemon: leases owned by the calling process, distinct across
// processes, released at clearLockedPorts() and when the process exits.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaemonUnavailableError, PortmandError, getPort as namedGetPort, type PortmandClient } from '../../client/client.ts';
import getPort, { clearLockedPorts, portNumbers } from '../../client/get-port.ts';
import { ROOT, tempDir, useDaemon, type Daemon } from './harness.ts';

const daemon = useDaemon();
let d: Daemon;
let pm: PortmandClient;
const savedSocket = process.env.PORTMAND_SOCKET;
beforeAll(() => {
  d = daemon();
  pm = d.client();
  // portmand/get-port finds the daemon as every client does; this file's worker points it here.
  process.env.PORTMAND_SOCKET = d.socket;
});
afterAll(() => {
  if (savedSocket === undefined) delete process.env.PORTMAND_SOCKET;
  else process.env.PORTMAND_SOCKET = savedSocket;
});

function listen(port: number, host?: string): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen({ port, host }, () => resolve(s));
  });
}

const close = (s: net.Server) => new Promise((r) => s.close(r));

/** A port the OS says is free right now. */
async function freePort(): Promise<number> {
  const s = await listen(0, '127.0.0.1');
  const port = (s.address() as net.AddressInfo).port;
  await close(s);
  return port;
}

/** The get-port leases the daemon holds, by service name. */
async function leases(): Promise<Map<string, { port: number; pid?: number }>> {
  const all = await pm.service.list();
  return new Map(all.filter((s) => s.name.startsWith('get-port.')).map((s) => [s.name, { port: s.port, pid: s.pid }]));
}

describe('portmand/get-port', () => {
  it('leases a port this process owns, which it can bind', async () => {
    const port = await getPort();
    const mine = [...(await leases()).values()].filter((l) => l.port === port);
    expect(mine).toEqual([{ port, pid: process.pid }]);
    await close(await listen(port));
    // A host name, as listen() takes, is checked on its first address.
    const local = await getPort({ host: 'localhost' });
    await close(await listen(local, 'localhost'));
  });

  it('takes the first free preferred port, never one another lease holds, and clearLockedPorts() gives it back', async () => {
    const busy = await listen(0);
    const taken = (busy.address() as net.AddressInfo).port;
    const wanted = await freePort();
    expect(await getPort({ port: [taken, wanted] })).toBe(wanted);
    const second = await getPort({ port: wanted });
    expect(second).not.toBe(wanted);
    expect(second).not.toBe(taken);
    clearLockedPorts();
    expect(await getPort({ port: wanted })).toBe(wanted);
    expect([...(await leases()).values()].filter((l) => l.port === second)).toEqual([]);
    await close(busy);
  });

  it('never returns an excluded port, even when it chooses', async () => {
    const wanted = await freePort();
    const got = await getPort({ port: wanted, exclude: [wanted] });
    expect(got).not.toBe(wanted);
    // The daemon's own choice honours exclude too: a one-port range, excluded, has nothing left.
    const e = await pm.port
      .allocate({ service: 'excluded-only', range: `${wanted}-${wanted}`, exclude: [wanted] })
      .catch((x: unknown) => x);
    expect((e as PortmandError).code).toBe(-32003);
    expect((await pm.port.allocate({ service: 'excluded-only', range: `${wanted}-${wanted}` })).port).toBe(wanted);
  });

  it('refuses bad options as get-port does, before asking the daemon', async () => {
    await expect(getPort({ exclude: 42 as never })).rejects.toThrow(TypeError);
    await expect(getPort({ exclude: [Number.NaN] })).rejects.toThrow(TypeError);
    await expect(getPort({ port: [70_000] })).rejects.toThrow(RangeError);
    await expect(getPort({ fallback: 'silent' as never })).rejects.toThrow(TypeError);
    expect(() => portNumbers(1023, 1024)).toThrow(RangeError);
    const e = await pm.call('port.allocate', { service: 'bad-exclude', exclude: [0] } as never).catch((x: unknown) => x);
    expect((e as PortmandError).code).toBe(-32602);
    expect((e as PortmandError).data).toMatchObject({ field: 'exclude' });
  });

  it('says clearly when no daemon runs, and checks locally only when asked to', async () => {
    const dir = tempDir();
    process.env.PORTMAND_SOCKET = path.join(dir, 'none.sock');
    try {
      const err = await getPort().catch((x: unknown) => x);
      expect(err).toBeInstanceOf(DaemonUnavailableError);
      expect((err as Error).message).toMatch(/daemon is not running.*portmand daemon.*fallback: 'local'/s);
      const wanted = await freePort();
      expect(await getPort({ port: wanted, fallback: 'local' })).toBe(wanted);
      // Locked in this process until clearLockedPorts(), as get-port locks what it hands out.
      expect(await getPort({ port: wanted, fallback: 'local' })).not.toBe(wanted);
      clearLockedPorts();
      expect(await getPort({ port: wanted, fallback: 'local' })).toBe(wanted);
    } finally {
      process.env.PORTMAND_SOCKET = d.socket;
    }
  });

  it('releases at clearLockedPorts() the leases taken from a daemon it has since stopped pointing at', async () => {
    const port = await getPort();
    const name = [...(await leases())].find(([, l]) => l.port === port)![0];
    process.env.PORTMAND_SOCKET = path.join(tempDir(), 'none.sock');
    try {
      await expect(getPort()).rejects.toBeInstanceOf(DaemonUnavailableError);
      clearLockedPorts();
    } finally {
      process.env.PORTMAND_SOCKET = d.socket;
    }
    await getPort(); // waits for the release
    expect((await leases()).has(name)).toBe(false);
  });

  it('gives distinct ports to many concurrent callers in several processes, each owning its leases until it exits', async () => {
    const script = `
      import getPort from 'portmand/get-port';
      const ports = await Promise.all(Array.from({ length: 25 }, () => getPort()));
      console.log(JSON.stringify({ pid: process.pid, ports }));
      process.stdin.resume();
      process.stdin.on('end', () => process.exit(0));
    `;
    const children = Array.from({ length: 4 }, () =>
      spawn(process.execPath, ['--input-type=module', '-e', script], {
        cwd: ROOT,
        env: { ...process.env, PORTMAND_SOCKET: d.socket },
        stdio: ['pipe', 'pipe', 'inherit'],
      }),
    );
    const outputs = await Promise.all(
      children.map(async (c) => {
        const [line] = (await once(createInterface({ input: c.stdout! }), 'line')) as [string];
        return JSON.parse(line) as { pid: number; ports: number[] };
      }),
    );
    const all = outputs.flatMap((o) => o.ports);
    expect(new Set(all).size).toBe(100);
    const held = await leases();
    for (const o of outputs) {
      const owned = [...held.values()].filter((l) => l.pid === o.pid).map((l) => l.port);
      expect(owned.sort()).toEqual([...o.ports].sort());
    }

    for (const c of children) c.stdin!.end();
    await Promise.all(children.map((c) => (c.exitCode === null ? once(c, 'exit') : null)));
    // Each detect is a scan that sees the owners gone; a lease is reclaimed after the hold-off (three in a row).
    const pids = new Set(outputs.map((o) => o.pid));
    for (let round = 0; round < 10; round++) {
      if (![...(await leases()).values()].some((l) => pids.has(l.pid!))) break;
      await pm.conflict.detect();
    }
    expect([...(await leases()).values()].filter((l) => pids.has(l.pid!))).toEqual([]);
  });
});

describe('the published get-port entry', () => {
  it('is exported with type declarations', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      exports: Record<string, { types: string; default: string }>;
    };
    const entry = pkg.exports['./get-port']!;
    expect(existsSync(path.join(ROOT, entry.default))).toBe(true);
    const types = readFileSync(path.join(ROOT, entry.types), 'utf8');
    for (const name of ['export default function getPort', 'clearLockedPorts', 'portNumbers', "fallback?: 'local'"])
      expect(types).toContain(name);
  });
});

describe('getPort(name) with get-port options', () => {
  it('takes a preference list and exclude, and a service keeps the port it holds', async () => {
    const busy = await listen(0);
    const taken = (busy.address() as net.AddressInfo).port;
    const wanted = await freePort();
    const opts = { socketPath: d.socket };
    expect(await namedGetPort('pref-list', { ...opts, port: [taken, wanted] })).toBe(wanted);
    // Asked again with other preferences, it keeps what it holds.
    expect(await namedGetPort('pref-list', { ...opts, port: [taken, await freePort()] })).toBe(wanted);
    expect(await namedGetPort('pref-list', { ...opts, port: portNumbers(wanted, wanted) })).toBe(wanted);
    const e = await namedGetPort('pref-list', { ...opts, exclude: [wanted] }).catch((x: unknown) => x);
    expect((e as PortmandError).code).toBe(-32602);
    expect((e as PortmandError).data).toMatchObject({ field: 'exclude' });

    const other = await freePort();
    const got = await namedGetPort('pref-excluded', { ...opts, port: other, exclude: [other] });
    expect(got).not.toBe(other);
    await close(busy);
  });
});
