import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PortmandClient, PortmandEvent } from '../../client/client.ts';
import { cleanup, startDaemon, tempDir, type Daemon } from './harness.ts';

let d: Daemon;
let pm: PortmandClient;
const children: ChildProcess[] = [];
const servers: net.Server[] = [];
const events: PortmandEvent[] = [];
const waiters: Array<{ match: (e: PortmandEvent) => boolean; resolve: (e: PortmandEvent) => void }> = [];

beforeAll(async () => {
  const dir = tempDir();
  const config = path.join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({ conflicts: { maxMovesPerHour: 1 } }));
  d = await startDaemon({ dir, env: { PORTMAND_CONFIG: config } });
  pm = d.client({ sendPid: false });
  const watcher = d.client();
  await watcher.events.subscribe({ types: ['port_assigned', 'conflict_resolved', 'service_restarted'] });
  for (const t of ['port_assigned', 'conflict_resolved', 'service_restarted'] as const) {
    watcher.on(t, (e) => {
      events.push(e);
      for (const w of [...waiters]) if (w.match(e)) (waiters.splice(waiters.indexOf(w), 1), w.resolve(e));
    });
  }
});

afterAll(async () => {
  for (const s of servers) s.close();
  for (const c of children) c.kill('SIGTERM');
  await d.stop();
  cleanup(d.dir);
});

function next<T extends PortmandEvent>(match: (e: PortmandEvent) => boolean): Promise<T> {
  const seen = events.find(match);
  return (seen ? Promise.resolve(seen) : new Promise<PortmandEvent>((resolve) => waiters.push({ match, resolve }))) as Promise<T>;
}

/** A process that is alive and listens nowhere: the owner of a lease that is not listening. */
function idleProcess(): number {
  const c = spawn('sleep', ['1000'], { stdio: 'ignore' });
  children.push(c);
  return c.pid!;
}

/** This test process listens on `port`: a foreign listener to every service not owned by it. */
async function squat(port: number): Promise<net.Server> {
  const s = net.createServer();
  servers.push(s);
  await new Promise<void>((r) => s.listen(port, '0.0.0.0', () => r()));
  return s;
}

type Moved = PortmandEvent<'port_assigned'>;
const moved = (service: string, previous: number) => (e: PortmandEvent) =>
  e.type === 'port_assigned' && (e as Moved).data.service === service && (e as Moved).data.previous === previous;

describe('automatic resolution', () => {
  it('moves a lease when a foreign listener takes its port, recorded as done by the daemon', async () => {
    const { port } = await pm.port.allocate({ service: 'lease-a', pid: idleProcess() });
    await squat(port);
    await pm.conflict.detect(); // a scan now, and the pass that follows every scan
    const e = await next<Moved>(moved('lease-a', port));
    expect(e.data.port).not.toBe(port);
    const resolved = (await pm.conflict.history()).find((c) => c.type === 'foreign_listener' && c.services.includes('lease-a'));
    expect(resolved).toMatchObject({ outcome: 'resolved', resolution: { strategy: 'auto', from: port, to: e.data.port, by: 'daemon' } });
    expect((await pm.port.history({ service: 'lease-a', limit: 1 }))[0]).toMatchObject({
      action: 'moved',
      port: e.data.port,
      previous: port,
      by: 'daemon',
    });
  });

  it('moves a service that opted in and runs its restart action; the back-off stops a flapping move', async () => {
    const out = path.join(d.dir, 'auto-env.json');
    const first = (await pm.port.suggest({ count: 1 })).ports[0]!;
    await pm.service.register({
      name: 'flapper',
      port: first,
      pid: idleProcess(),
      autoResolve: true,
      restart: { command: [process.execPath, '-e', "require('fs').writeFileSync(process.argv[1], JSON.stringify(process.env))", out] },
    });
    await squat(first);
    await pm.conflict.detect();
    const e = await next<Moved>(moved('flapper', first));
    const second = e.data.port;
    // Not onPortChange "restart", but the daemon moved a service that was not listening: only a restart brings it up there.
    expect(
      (
        await next<PortmandEvent<'service_restarted'>>(
          (x) => x.type === 'service_restarted' && (x.data as { service: string }).service === 'flapper',
        )
      ).data,
    ).toMatchObject({
      port: second,
      reason: 'port_changed',
      ok: true,
    });
    expect(JSON.parse(readFileSync(out, 'utf8'))).toMatchObject({ PORT: String(second), PORTMAND_PREVIOUS_PORT: String(first) });

    // The intruder follows it: maxMovesPerHour is 1, so this time the conflict stays open, with a note.
    await squat(second);
    await pm.conflict.detect();
    const held = await d.waitForLog((r) => r.msg === 'conflict left open by the back-off' && r.service === 'flapper');
    const open = (await pm.conflict.list()).find((c) => c.id === held.conflict);
    expect(open).toMatchObject({
      type: 'foreign_listener',
      port: second,
      resolvedAt: null,
      note: 'left open: the daemon moved flapper once in the last hour (maxMovesPerHour 1)',
    });
    expect((await pm.service.get({ name: 'flapper' })).port).toBe(second);

    const plan = await pm.conflict.plan();
    expect(plan.steps.find((s) => s.conflict === held.conflict)).toMatchObject({ action: 'hold', service: 'flapper' });
    const cli = await d.cliInProcess(['conflicts', '--plan']);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toMatch(new RegExp(`${String(held.conflict)}\\s+${second}\\s+foreign_listener\\s+hold\\s+flapper`));
  });

  it('a registered service that did not opt in is left to the operator; the plan says why', async () => {
    const port = (await pm.port.suggest({ count: 1 })).ports[0]!;
    await pm.service.register({ name: 'manual-only', port, pid: idleProcess() });
    await squat(port);
    const conflict = await (async () => {
      for (;;) {
        const c = (await pm.conflict.detect()).find((x) => x.services.includes('manual-only'));
        if (c) return c;
      }
    })();
    const step = (await pm.conflict.plan()).steps.find((s) => s.conflict === conflict.id);
    expect(step).toMatchObject({
      action: 'none',
      note: 'manual-only did not opt in (autoResolve) and no config rule covers this conflict',
    });
    expect((await pm.service.get({ name: 'manual-only' })).port).toBe(port);
  });

  it("leaves a lease alone when its owner's own child listens on the port (get-port, then spawn a server)", async () => {
    // The lease's owner listens nowhere itself; it starts a server on the port it was given.
    const script =
      "process.stdin.once('data', (p) => { const c = require('child_process').spawn(process.execPath, ['-e', `require('net').createServer().listen(${Number(p)}, () => console.log('up'))`], { stdio: 'inherit' }); process.on('SIGTERM', () => { c.kill(); process.exit(0); }); })";
    const owner = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'ignore'] });
    children.push(owner);
    const { port } = await pm.port.allocate({ service: 'lease-child', pid: owner.pid! });
    owner.stdin!.write(`${port}\n`);
    await new Promise((r) => owner.stdout!.once('data', r));
    const conflict = await (async () => {
      for (;;) {
        const c = (await pm.conflict.detect()).find((x) => x.type === 'foreign_listener' && x.services.includes('lease-child'));
        if (c) return c;
      }
    })();
    // detect ran a policy pass after its scan: the lease is where it was.
    expect((await pm.service.get({ name: 'lease-child' })).port).toBe(port);
    expect((await pm.conflict.plan()).steps.find((s) => s.conflict === conflict.id)).toMatchObject({
      action: 'none',
      note: expect.stringContaining('child of'),
    });
  });

  it('of two services on one port, the newer registration moves', async () => {
    const port = (await pm.port.suggest({ count: 1 })).ports[0]!;
    await pm.service.register({ name: 'dup-old', port });
    await pm.service.register({ name: 'dup-new', port, autoResolve: true });
    const e = await next<Moved>(moved('dup-new', port));
    expect(e.data.port).not.toBe(port);
    expect((await pm.service.get({ name: 'dup-old' })).port).toBe(port);
  });
});
