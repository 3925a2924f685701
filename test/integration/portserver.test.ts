// Google's portserver protocol (issue 9, part 6) against the real daemon:
// Debian's python3-portpicker with PORTSERVER_ADDRESS set gets ports that
// portmand lists as leases of the asking process, distinct across processes
// asking at once, released when they exit; and the protocol itself, spoken
// from here, with garbage, half lines and dead pids.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, lstatSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PortmandClient, PortmandEvent, Service } from '../../client/client.ts';
import { abstractSocketsWork } from '../../daemon/config/portserver.ts';
import { otherUsersUnavailable, passable } from './access-users.ts';
import { cleanup, holdoffScans, runCli, startDaemon, tempDir, type Daemon } from './harness.ts';

/** Debian's interpreter, where apt puts portpicker (the python3 first on PATH may be another one). */
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

function portpickerMissing(): string | null {
  const r = spawnSync(PYTHON, ['-c', 'import portpicker'], { encoding: 'utf8' });
  if (r.error) return `${PYTHON} cannot run (${r.error.message})`;
  if (r.status !== 0) return `${PYTHON} cannot import portpicker (apt-get install python3-portpicker)`;
  return null;
}

const missing = portpickerMissing();
if (missing) console.log(`portserver test with portpicker skipped: ${missing}`);

/** Node 20's libuv binds abstract names padded with NULs (nodejs/node#50889): nothing else can connect to them. */
const abstract = process.platform === 'linux' && abstractSocketsWork(process.versions.uv ?? '0');
if (!abstract)
  console.log(`abstract portserver addresses not tested: libuv ${process.versions.uv} on ${process.platform} cannot serve them`);
const uniqueName = (what: string) => `@pm-${what}-${process.pid}-${Math.random().toString(36).slice(2)}`;

/** Sends `payload` to the portserver at `address` ("@name" or a path) and resolves to everything it answers before closing. */
function ask(address: string, payload: string | Buffer, opts: { end?: boolean } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(address.startsWith('@') ? `\0${address.slice(1)}` : address);
    let got = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (got += d));
    socket.on('error', reject);
    socket.on('close', () => resolve(got));
    socket.on('connect', () => (opts.end ? socket.end(payload) : socket.write(payload)));
  });
}

/** Starts a daemon with a portserver at `address`; `config` adds keys. */
async function daemonAt(address: (dir: string) => string, config: object = {}): Promise<{ d: Daemon; address: string }> {
  const dir = tempDir();
  const at = address(dir);
  const file = path.join(dir, 'config.json');
  writeFileSync(file, JSON.stringify({ portserver: { address: at }, ...config }));
  return { d: await startDaemon({ dir, env: { PORTMAND_CONFIG: file } }), address: at };
}

/** Waits for events of one type on a subscribed client. */
function eventLog(pm: PortmandClient): { next(match: (e: PortmandEvent) => boolean): Promise<PortmandEvent> } {
  const seen: PortmandEvent[] = [];
  const waiters: Array<{ match: (e: PortmandEvent) => boolean; resolve: (e: PortmandEvent) => void }> = [];
  pm.on('*', (e) => {
    seen.push(e);
    for (const w of [...waiters]) if (w.match(e)) (waiters.splice(waiters.indexOf(w), 1), w.resolve(e));
  });
  return {
    next: (match) => {
      const old = seen.find(match);
      return old ? Promise.resolve(old) : new Promise((resolve) => waiters.push({ match, resolve }));
    },
  };
}

const leasesOf = (services: Service[], pid: number) => services.filter((s) => s.name.startsWith(`portserver-${pid}-`));

describe.skipIf(missing !== null)('portpicker against the portserver', () => {
  let d: Daemon;
  let address: string;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    // The abstract namespace where this runtime can serve it (what test runners usually set), else a path.
    ({ d, address } = await daemonAt((dir) => (abstract ? uniqueName('test') : path.join(dir, 'portserver.sock'))));
  });
  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await d?.stop();
    if (d) cleanup(d.dir);
  });

  /** A python process that picks a port with portpicker, prints it, and holds on until its stdin closes. */
  async function picker(env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; port: number }> {
    const script = 'import portpicker, sys\nprint(portpicker.pick_unused_port(), flush=True)\nsys.stdin.read()\n';
    const child = spawn(PYTHON, ['-c', script], { env: { PATH: process.env.PATH, ...env }, stdio: ['pipe', 'pipe', 'inherit'] });
    children.push(child);
    const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
    return { child, port: Number(line) };
  }

  it('8 processes at once get distinct ports, each a lease of that process, released when it exits', async () => {
    const pm = d.client();
    const events = eventLog(pm);
    await pm.events.subscribe({ types: ['port_released'] });
    const picked = await Promise.all(Array.from({ length: 8 }, () => picker({ PORTSERVER_ADDRESS: address })));
    const ports = picked.map((p) => p.port);
    expect(ports.every((p) => Number.isInteger(p) && p > 0)).toBe(true);
    expect(new Set(ports).size).toBe(8);

    const services = await pm.service.list();
    for (const { child, port } of picked) {
      const leases = leasesOf(services, child.pid!);
      expect(leases).toEqual([
        expect.objectContaining({ port, pid: child.pid, protocol: 'tcp', owner: expect.objectContaining({ uid: process.getuid!() }) }),
      ]);
      expect(await pm.port.get({ port })).toMatchObject({ state: 'assigned', service: leases[0]!.name });
    }

    // They exit: once the scans see them gone, every lease is released.
    const released = ports.map((port) => events.next((e) => e.type === 'port_released' && (e.data as { port: number }).port === port));
    for (const { child } of picked) child.stdin!.end();
    await Promise.all(picked.map(({ child }) => (child.exitCode === null ? once(child, 'exit') : null)));
    await holdoffScans(pm);
    await Promise.all(released);
    const left = await pm.service.list();
    for (const { child } of picked) expect(leasesOf(left, child.pid!)).toEqual([]);
  });

  it.skipIf(!abstract)('a path socket works too', async () => {
    const { d: other, address: at } = await daemonAt((dir) => path.join(dir, 'portserver.sock'));
    try {
      const { child, port } = await picker({ PORTSERVER_ADDRESS: at });
      expect(leasesOf(await other.client().service.list(), child.pid!)).toEqual([expect.objectContaining({ port })]);
      child.stdin!.end();
    } finally {
      await other.stop();
      cleanup(other.dir);
    }
  });
});

describe.skipIf(!['linux', 'darwin'].includes(process.platform))('the portserver protocol, spoken directly', () => {
  let d: Daemon;
  let address: string;
  beforeAll(async () => {
    ({ d, address } = await daemonAt((dir) => path.join(dir, 'ps.sock'), { limits: { idleTimeoutSec: 1 } }));
  });
  afterAll(async () => {
    await d?.stop();
    if (d) cleanup(d.dir);
  });

  it('answers a live pid with a port leased to it, and "0" to anything else, and keeps working', async () => {
    const answer = await ask(address, `${process.pid}\n`);
    expect(answer).toMatch(/^[1-9]\d*\n$/);
    const port = Number(answer);
    const pm = d.client();
    expect(leasesOf(await pm.service.list(), process.pid)).toEqual([expect.objectContaining({ port, pid: process.pid })]);
    // Another answer for the same pid is another lease, on another port.
    const again = Number(await ask(address, `${process.pid}\r\n`));
    expect(again).toBeGreaterThan(0);
    expect(again).not.toBe(port);
    // A pid sent without a newline before the client's end counts (Google's portserver reads it so).
    expect(Number(await ask(address, ` ${process.pid} `, { end: true }))).toBeGreaterThan(0);

    const dead = spawn('true');
    await once(dead, 'exit');
    for (const garbage of ['garbage\n', '-1\n', '0\n', '12x\n', '99999999999\n', '\n', `${dead.pid}\n`, '\u0000\u00ff\n']) {
      expect(await ask(address, garbage), JSON.stringify(garbage)).toBe('0\n');
    }
    expect(await ask(address, Buffer.from([0xff, 0xfe, 0x0a]))).toBe('0\n');
    expect(await ask(address, '1'.repeat(100))).toBe('0\n'); // over the line cap, no newline needed
    expect(await ask(address, '', { end: true })).toBe('0\n');
    // Part of a line and then nothing: "0" once the idle timeout passes, and the connection closes.
    expect(await ask(address, '12')).toBe('0\n');

    expect(await pm.daemon.ping()).toBe('pong');
    expect(d.logs.filter((l) => Number(l.level) >= 50)).toEqual([]);
    for (const s of leasesOf(await pm.service.list(), process.pid)) await pm.port.release({ port: s.port });
  });

  it('binds the path as the main socket: private mode, a dead leftover replaced, a non-socket refused, removed on stop', async () => {
    expect(lstatSync(address).mode & 0o777).toBe(0o600);
    const dir = tempDir();
    try {
      // A socket left by a process that died without removing it.
      const stale = path.join(dir, 'stale.sock');
      const holder = spawn(
        process.execPath,
        ['-e', `require('net').createServer().listen(${JSON.stringify(stale)}, () => console.log('up'))`],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      await once(holder.stdout!, 'data');
      holder.kill('SIGKILL');
      await once(holder, 'exit');
      expect(lstatSync(stale).isSocket()).toBe(true);
      const file = path.join(dir, 'config.json');
      writeFileSync(file, JSON.stringify({ portserver: { address: stale } }));
      const second = await startDaemon({ dir, env: { PORTMAND_CONFIG: file } });
      expect(Number(await ask(stale, `${process.pid}\n`))).toBeGreaterThan(0);
      expect(await second.stop()).toBe(0);
      expect(existsSync(stale)).toBe(false);

      // A regular file at the path is not ours to replace.
      writeFileSync(stale, 'not a socket');
      await expect(startDaemon({ dir, env: { PORTMAND_CONFIG: file } })).rejects.toThrow(
        `socket path ${stale} is a regular file, not a socket`,
      );
    } finally {
      cleanup(dir);
    }
  });

  it.skipIf(!abstract)('closes an abstract address on stop', async () => {
    const { d: other, address: at } = await daemonAt(() => uniqueName('stop'));
    try {
      expect(Number(await ask(at, `${process.pid}\n`))).toBeGreaterThan(0);
      expect(await other.stop()).toBe(0);
      await expect(ask(at, `${process.pid}\n`)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    } finally {
      cleanup(other.dir);
    }
  });
});

describe.skipIf(process.platform !== 'linux' || abstract)('an abstract address on a runtime that cannot serve one', () => {
  it('is a configuration error (exit 78) that says why and what to do', async () => {
    const dir = tempDir();
    try {
      const file = path.join(dir, 'config.json');
      writeFileSync(file, JSON.stringify({ portserver: { address: uniqueName('old') } }));
      const r = await runCli(['daemon'], {
        PORTMAND_SOCKET: path.join(dir, 'pm.sock'),
        PORTMAND_STATE_DIR: path.join(dir, 'state'),
        PORTMAND_CONFIG: file,
      });
      expect(r.code).toBe(78);
      expect(r.stderr).toContain('binds abstract names padded with NUL bytes');
      expect(r.stderr).toContain('give a socket path instead');
    } finally {
      cleanup(dir);
    }
  });
});

const otherUsers = otherUsersUnavailable();
describe.skipIf(otherUsers !== null)('a shared portserver socket and other users', () => {
  /** As uid 4242: connects to `address`, sends `pid` (its own when null), prints the answer. */
  function askAs(address: string, pid: number | null): string {
    const script = `const s = require('net').connect(process.argv[1]); let got = '';
      s.setEncoding('utf8'); s.on('data', (d) => (got += d)); s.on('close', () => process.stdout.write(got));
      s.on('connect', () => s.write((process.argv[2] === 'self' ? process.pid : process.argv[2]) + '\\n'));`;
    const r = spawnSync(
      'setpriv',
      ['--reuid=4242', '--regid=4242', '--clear-groups', process.execPath, '-e', script, address, pid === null ? 'self' : String(pid)],
      { env: { PATH: process.env.PATH }, encoding: 'utf8' },
    );
    if (r.status !== 0) throw new Error(`asking as uid 4242 failed: ${r.stderr}`);
    return r.stdout;
  }

  it("answers a user's own pid, and 0 for another user's pid, which gets no lease and spends nobody's rate limit", async () => {
    const { d, address } = await daemonAt(
      (dir) => {
        passable(dir);
        return path.join(dir, 'ps.sock');
      },
      { socket: { mode: '0666' }, limits: { mutationsPerSec: 1, burst: 2 } },
    );
    // A process of root's that lives on: a lease named for it would never be reclaimed.
    const rootProc = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      for (let i = 0; i < 4; i++) expect(askAs(address, rootProc.pid!)).toBe('0\n');
      const pm = d.client();
      expect(leasesOf(await pm.service.list(), rootProc.pid!)).toEqual([]);
      // Root's own budget is untouched by those requests.
      await pm.port.allocate({ service: 'ps-root-1' });
      await pm.port.allocate({ service: 'ps-root-2' });

      const own = askAs(address, null);
      expect(own).toMatch(/^[1-9]\d*\n$/);
      const lease = (await pm.service.list()).find((s) => s.port === Number(own));
      expect(lease).toMatchObject({ owner: { uid: 4242 } });
      expect(lease!.name).toMatch(/^portserver-\d+-\d+$/);
      expect(d.logs.filter((l) => Number(l.level) >= 50)).toEqual([]);
    } finally {
      rootProc.kill('SIGKILL');
      await d.stop();
      cleanup(d.dir);
    }
  });
});
