// pm.service.onPortChange against the real daemon: another client's setPort
// and a resolution call it back with (port, previous), unsubscribing stops
// it, and it outlives a daemon restart.
import { symlinkSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PortmandClient } from '../../client/client.ts';
import { cleanup, startDaemon, tempDir } from './harness.ts';

const cleanups: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** Collects callback calls; next() resolves with the next one. */
function recorder() {
  const calls: Array<[number, number]> = [];
  const waiting: Array<(c: [number, number]) => void> = [];
  return {
    calls,
    fn: (port: number, previous: number) => {
      calls.push([port, previous]);
      waiting.shift()?.([port, previous]);
    },
    next: () => new Promise<[number, number]>((r) => waiting.push(r)),
  };
}

async function daemonIn(dir: string) {
  const d = await startDaemon({ dir });
  cleanups.push(() => d.stop());
  return d;
}

describe('pm.service.onPortChange', () => {
  it("fires with (port, previous) for another client's setPort and a resolution, until unsubscribed", async () => {
    const dir = tempDir();
    cleanups.push(() => cleanup(dir));
    const d = await daemonIn(dir);
    const app = d.client();
    const admin = d.client();
    const first = await app.port.allocate({ service: 'web' });
    await app.port.allocate({ service: 'api' });

    const web = recorder();
    const api = recorder();
    const stopWeb = await app.service.onPortChange('web', web.fn);
    await app.service.onPortChange('api', api.fn);

    const moved = await freePort();
    let next = web.next();
    await admin.service.setPort({ name: 'web', port: moved });
    expect(await next).toEqual([moved, first.port]);

    const again = await freePort();
    next = web.next();
    await admin.conflict.resolve({ service: 'web', strategy: 'manual', newPort: again });
    expect(await next).toEqual([again, moved]);

    await stopWeb();
    await admin.service.setPort({ name: 'web', port: await freePort() });
    // Events come in order on one connection: once api's arrives, web's has been and gone unheard.
    const apiPort = await freePort();
    const heard = api.next();
    await admin.service.setPort({ name: 'api', port: apiPort });
    expect((await heard)[0]).toBe(apiPort);
    expect(web.calls).toHaveLength(2);
  });

  it('a watcher added while the last one is still stopping is heard', async () => {
    const dir = tempDir();
    cleanups.push(() => cleanup(dir));
    const d = await daemonIn(dir);
    const app = d.client();
    const { port } = await app.port.allocate({ service: 'web' });
    const stopFirst = await app.service.onPortChange('web', () => {});
    // Not awaited: the unsubscribe is still on its way when the next watcher comes.
    const stopping = stopFirst();
    const web = recorder();
    await app.service.onPortChange('web', web.fn);
    await stopping;
    const moved = await freePort();
    const next = web.next();
    await d.client().service.setPort({ name: 'web', port: moved });
    expect(await next).toEqual([moved, port]);
  });

  it('keeps working across a daemon restart', async () => {
    const dir = tempDir();
    cleanups.push(() => cleanup(dir));
    const d1 = await startDaemon({ dir });
    const app = new PortmandClient({ socketPath: d1.socket });
    cleanups.push(() => app.close());
    const { port } = await app.port.allocate({ service: 'web' });
    const web = recorder();
    await app.service.onPortChange('web', web.fn);
    expect(await d1.stop()).toBe(0);

    const d2 = await daemonIn(dir);
    const moved = await freePort();
    const next = web.next();
    // Whether the client is back before or after the move, the change reaches it once.
    await d2.client().service.setPort({ name: 'web', port: moved });
    expect(await next).toEqual([moved, port]);
    expect(web.calls).toEqual([[moved, port]]);
  });

  it('reports a change made while it was away and no longer replayable, once it is back', async () => {
    const dir = tempDir();
    cleanups.push(() => cleanup(dir));
    const d1 = await startDaemon({ dir });
    // The client reaches the daemon through a link, so the test decides when it can come back.
    const link = path.join(dir, 'l.sock');
    symlinkSync(d1.socket, link);
    const app = new PortmandClient({ socketPath: link });
    cleanups.push(() => app.close());
    const { port } = await app.port.allocate({ service: 'web' });
    const web = recorder();
    await app.service.onPortChange('web', web.fn);
    unlinkSync(link);
    expect(await d1.stop()).toBe(0);

    const d2 = await daemonIn(dir);
    const admin = d2.client();
    const moved = await freePort();
    await admin.service.setPort({ name: 'web', port: moved });
    // More events than the daemon remembers (1000), so the move cannot be replayed.
    for (let batch = 0; batch < 6; batch++)
      await Promise.all(Array.from({ length: 100 }, (_, i) => admin.port.allocate({ service: `filler-${batch}-${i}` })));
    const next = web.next();
    symlinkSync(d2.socket, link);
    // Back now rather than at its next retry (the back-off has reached seconds by here): a call
    // connects at once, and the resubscription is the same as after a background reconnect,
    // which the restart test above waits for.
    expect(await app.daemon.ping()).toBe('pong');
    expect(await next).toEqual([moved, port]);
  });
});
