// listener_started / listener_stopped (issue 9, part 8) against the real
// daemon and real listeners: a scan that sees a listener appear or go says so;
// the first scan after start says nothing about what was already there.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import type { PortmandClient, PortmandEvent } from '../../client/client.ts';
import { CLI, cleanup, startDaemon, type Daemon } from './harness.ts';

type ListenerType = 'listener_started' | 'listener_stopped';

const cleanups: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function daemonWithWatcher(): Promise<{ d: Daemon; pm: PortmandClient; seen: PortmandEvent[]; next: typeof nextOf }> {
  // Only the scans the tests ask for: one on the schedule could start while a listener is being made and
  // list it without its process (ss reads /proc before it asks for the sockets), and the event then has no pid.
  const d = await startDaemon({ env: { PORTMAND_SCAN_INTERVAL: '3600' } });
  cleanups.push(
    () => cleanup(d.dir),
    () => d.stop(),
  );
  const pm = d.client();
  const seen: PortmandEvent[] = [];
  const waiters: Array<{ match: (e: PortmandEvent) => boolean; resolve: (e: PortmandEvent) => void }> = [];
  pm.on('*', (e) => {
    seen.push(e);
    for (const w of [...waiters]) if (w.match(e)) (waiters.splice(waiters.indexOf(w), 1), w.resolve(e));
  });
  // From the first seq this daemon gave out: the events of its first scan are replayed too.
  await pm.events.subscribe({ types: ['listener_started', 'listener_stopped'], sinceSeq: 0 });
  function nextOf(type: ListenerType, port: number): Promise<PortmandEvent> {
    const match = (e: PortmandEvent) => e.type === type && (e.data as { port: number }).port === port;
    const old = seen.find(match);
    return old ? Promise.resolve(old) : new Promise((resolve) => waiters.push({ match, resolve }));
  }
  return { d, pm, seen, next: nextOf };
}

async function listen(): Promise<net.Server> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

const portOf = (s: net.Server) => (s.address() as net.AddressInfo).port;

describe.skipIf(!['linux', 'darwin'].includes(process.platform))('listener events', () => {
  it('a listener opened after start is announced once a scan sees it, and its close once a scan misses it', async () => {
    const before = await listen();
    cleanups.push(() => void before.close());
    const { pm, seen, next } = await daemonWithWatcher();
    const server = await listen();
    const port = portOf(server);
    await pm.conflict.detect(); // a scan now
    const started = await next('listener_started', port);
    expect(started.data).toEqual({ port, protocol: 'tcp', address: '127.0.0.1', pid: process.pid, process: expect.any(String) });
    await new Promise((r) => server.close(r));
    await pm.conflict.detect();
    expect((await next('listener_stopped', port)).data).toMatchObject({ port, protocol: 'tcp', address: '127.0.0.1', pid: process.pid });
    // The listener that was there before the daemon started was never "started", and nothing is announced twice.
    expect(seen.filter((e) => (e.data as { port: number }).port === portOf(before))).toEqual([]);
    expect(seen.filter((e) => e.type === 'listener_started' && (e.data as { port: number }).port === port)).toHaveLength(1);
  });

  // process.title renames the process (its comm) on Linux only.
  it.skipIf(process.platform !== 'linux')('watch prints the events with a hostile process name escaped', async () => {
    const { d, pm, next } = await daemonWithWatcher();
    const watch = spawn(process.execPath, [CLI, 'watch', '--types', 'listener_started'], {
      env: { ...process.env, ...d.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    cleanups.push(() => void watch.kill());
    await once(watch.stderr, 'data'); // "watching ...": subscribed
    const lines = createInterface({ input: watch.stdout });
    // A process whose name would clear the screen. (A newline in it would hide its pid from ss's
    // line-per-socket output; reported, not this test's business.)
    const child = spawn(
      process.execPath,
      [
        '-e',
        `process.title = 'pm\\x1b[2Jx'; require('net').createServer().listen(0, '127.0.0.1', function () { console.log(this.address().port) })`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    cleanups.push(() => void child.kill());
    const port = Number(String((await once(child.stdout, 'data'))[0]).trim());
    const printed = new Promise<string>((resolve) => lines.on('line', (l) => l.includes(`${port}/tcp`) && resolve(l)));
    await pm.conflict.detect();
    const event = await next('listener_started', port);
    const line = await printed;
    expect(line).toMatch(new RegExp(`listener_started\\s+${port}/tcp on 127\\.0\\.0\\.1 \\(pid ${child.pid}`));
    expect(line).not.toContain('\x1b');
    expect((event.data as { process?: string }).process).toBe('pm\x1b[2Jx');
    expect(line).toContain('pm\\u001b[2Jx');
  });
});
