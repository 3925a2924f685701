import { existsSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PortmandClient } from '../../client/client.ts';
import { cleanup, startDaemon, tempDir, type Daemon } from './harness.ts';

const dirs: string[] = [];
const daemons: Daemon[] = [];
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.stop('SIGKILL');
  for (const dir of dirs.splice(0)) cleanup(dir);
});

async function daemonIn(dir: string, env: NodeJS.ProcessEnv = {}): Promise<Daemon> {
  const d = await startDaemon({ dir, env });
  daemons.push(d);
  return d;
}

describe('durability', () => {
  it('every acknowledged change survives kill -9 right after the reply', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const d = await daemonIn(dir);
    const pm = d.client();
    await pm.service.register({ name: 'api', port: 18080, tags: ['web'] });
    const allocated = await Promise.all(Array.from({ length: 100 }, (_, i) => pm.port.allocate({ service: `job-${i}` })));
    await pm.port.reserve({ port: 18081, for: 'db', reason: 'kept' });
    d.proc.kill('SIGKILL');
    await d.stop('SIGKILL');

    // The killed daemon left its socket and lock behind: a new one must take over both.
    const again = await daemonIn(dir);
    const pm2 = again.client();
    const services = await pm2.service.list();
    expect(services.find((s) => s.name === 'api')).toMatchObject({ port: 18080, tags: ['web'] });
    for (const [i, a] of allocated.entries()) expect(services.find((s) => s.name === `job-${i}`)?.port).toBe(a.port);
    expect(await pm2.port.get({ port: 18081 })).toMatchObject({ state: 'reserved', reservedFor: 'db' });
    // The same service gets the same port back after the restart.
    expect((await pm2.port.allocate({ service: 'job-7' })).port).toBe(allocated[7]!.port);
  });

  it('a clean stop and restart keeps everything', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const d = await daemonIn(dir);
    await d.client().service.register({ name: 'kept', port: 18090 });
    expect(await d.stop('SIGTERM')).toBe(0);
    const again = await daemonIn(dir);
    expect((await again.client().service.get({ name: 'kept' })).port).toBe(18090);
  });

  it('a corrupt state file is moved aside and reported, never silently replaced', async () => {
    const dir = tempDir();
    dirs.push(dir);
    mkdirSync(path.join(dir, 'state'), { recursive: true });
    writeFileSync(path.join(dir, 'state', 'state.json'), '{"schemaVersion": 1, "seq": 3, "state": {oops');
    const d = await daemonIn(dir);
    const rec = await d.waitForLog((r) => r.level === 50 && /corrupt/i.test(String(r.msg)));
    expect(String(rec.msg)).toContain('state.json');
    const aside = readdirSync(path.join(dir, 'state')).filter((f) => f.startsWith('state.json.corrupt'));
    expect(aside).toHaveLength(1);
    expect(await d.client().service.list()).toEqual([]);
  });
});

describe('clients across a daemon restart', () => {
  it('a client reconnects by itself and keeps receiving the events it subscribed to', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const first = await daemonIn(dir);
    // Not first.client(): the harness closes those when it stops the daemon.
    const pm = new PortmandClient({ socketPath: first.socket });
    await pm.events.subscribe({ types: ['service_registered'] });
    const names: string[] = [];
    const after = new Promise<void>((resolve) =>
      pm.on('service_registered', (e) => {
        names.push(e.data.name);
        if (e.data.name === 'after-restart') resolve();
      }),
    );
    await pm.service.register({ name: 'before-restart', port: 18801 });
    expect(await first.stop('SIGTERM')).toBe(0);

    const second = await daemonIn(dir);
    // Another client's change: pm learns of it only through its own re-subscription.
    await second.client().service.register({ name: 'after-restart', port: 18802 });
    await after;
    expect(names).toEqual(['before-restart', 'after-restart']);
    expect((await pm.service.get({ name: 'before-restart' })).port).toBe(18801);
    pm.close();
  });
});

describe('one daemon per state dir and socket', () => {
  it('a second daemon on the same state dir refuses to start and says why', async () => {
    const dir = tempDir();
    dirs.push(dir);
    await daemonIn(dir);
    const second = startDaemon({ dir, env: { PORTMAND_SOCKET: path.join(dir, 'other.sock') } });
    await expect(second).rejects.toThrow(/in use by portmand pid \d+/);
  });

  it('a second daemon on a live socket refuses to start and leaves the first one working', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const first = await daemonIn(dir);
    const other = tempDir();
    dirs.push(other);
    const second = startDaemon({ dir: other, env: { PORTMAND_SOCKET: first.socket } });
    await expect(second).rejects.toThrow(/already listens on/);
    expect(existsSync(first.socket)).toBe(true);
    expect(await first.client().daemon.ping()).toBe('pong');
  });
});
