import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import net from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import type { PortmandClient, PortmandEvent, Service } from '../../client/client.ts';
import { CLI, useDaemon } from './harness.ts';

const daemon = useDaemon();
let pm: PortmandClient;
const registered: Array<PortmandEvent<'service_registered'>> = [];
const waiters: Array<{ match: (s: Service) => boolean; resolve: (s: Service) => void }> = [];

beforeAll(async () => {
  pm = daemon().client({ sendPid: false });
  const watcher = daemon().client();
  await watcher.events.subscribe({ types: ['service_registered'] });
  watcher.on('service_registered', (e) => {
    registered.push(e);
    for (const w of [...waiters]) if (w.match(e.data)) (waiters.splice(waiters.indexOf(w), 1), w.resolve(e.data));
  });
});

function registration(match: (s: Service) => boolean): Promise<Service> {
  const seen = registered.find((e) => match(e.data));
  return seen ? Promise.resolve(seen.data) : new Promise((resolve) => waiters.push({ match, resolve }));
}

/** `portmand run ...` without a TTY, its output collected line by line. */
function runCli(args: string[]) {
  const child = spawn(process.execPath, [CLI, 'run', ...args], {
    env: { ...process.env, ...daemon().env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiting: Array<{ match: (l: string) => boolean; resolve: (l: string) => void }> = [];
  createInterface({ input: child.stdout! }).on('line', (l) => {
    lines.push(l);
    for (const w of [...waiting]) if (w.match(l)) (waiting.splice(waiting.indexOf(w), 1), w.resolve(l));
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d));
  const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    child,
    done,
    stderr: () => stderr,
    line: (match: (l: string) => boolean) => {
      const seen = lines.find(match);
      return seen !== undefined ? Promise.resolve(seen) : new Promise<string>((resolve) => waiting.push({ match, resolve }));
    },
  };
}

// A server on $PORT that prints "listening <port> <pid>" and stays up until told to stop.
const SERVER =
  "const s = require('net').createServer().listen(Number(process.env.PORT), () => console.log('listening', process.env.PORT, process.pid));";

describe('portmand run', () => {
  it("exits with the child's code, sets PORT, registers the child as the owner, and releases the port", async () => {
    const r = runCli([
      'run-exit',
      '--',
      process.execPath,
      '-e',
      "console.log('port', process.env.PORT, process.pid); setTimeout(() => process.exit(7), 200)",
    ]);
    const [, port, pid] = (await r.line((l) => l.startsWith('port '))).split(' ');
    const owned = await registration((s) => s.name === 'run-exit' && s.pid === Number(pid));
    expect(owned.port).toBe(Number(port));
    expect(await r.done).toBe(7);
    await expect(pm.service.get({ name: 'run-exit' })).rejects.toMatchObject({ code: -32001 });
  });

  it('borrows a service registered before: its check, tags and host are kept, and it is not removed when the command exits', async () => {
    const listener = net.createServer();
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', () => r()));
    const port = (listener.address() as net.AddressInfo).port;
    listener.close();
    await pm.service.register({
      name: 'run-borrowed',
      port,
      host: '127.0.0.1',
      tags: ['api'],
      healthCheck: { type: 'tcp', intervalSec: 3600 },
    });
    const r = runCli(['run-borrowed', '--', process.execPath, '-e', "console.log('port', process.env.PORT, process.pid)"]);
    const [, got, pid] = (await r.line((l) => l.startsWith('port '))).split(' ');
    expect(Number(got)).toBe(port);
    await registration((s) => s.name === 'run-borrowed' && s.pid === Number(pid));
    expect(await r.done).toBe(0);
    const kept = await pm.service.get({ name: 'run-borrowed' });
    expect(kept).toMatchObject({ port, host: '127.0.0.1', tags: ['api'], healthCheck: { type: 'tcp', intervalSec: 3600 } });
  });

  it('--keep keeps the port, and --env names the variable', async () => {
    const r = runCli([
      'run-keep',
      '--keep',
      '--env',
      'HTTP_PORT',
      '--',
      process.execPath,
      '-e',
      "console.log('port', process.env.HTTP_PORT)",
    ]);
    const port = Number((await r.line((l) => l.startsWith('port '))).split(' ')[1]);
    expect(await r.done).toBe(0);
    expect((await pm.service.get({ name: 'run-keep' })).port).toBe(port);
    // Asked again, the service gets the same port back.
    const again = runCli(['run-keep', '--', process.execPath, '-e', "console.log('port', process.env.PORT)"]);
    expect(Number((await again.line((l) => l.startsWith('port '))).split(' ')[1])).toBe(port);
    expect(await again.done).toBe(0);
  });

  it('--restart-on-change brings the child back on the new port; a signal is forwarded and the port released', async () => {
    const r = runCli(['run-follow', '--restart-on-change', '--', process.execPath, '-e', SERVER]);
    const [, first, firstPid] = (await r.line((l) => l.startsWith('listening '))).split(' ');
    await registration((s) => s.name === 'run-follow' && s.pid === Number(firstPid));
    const to = (await pm.port.suggest({ count: 1 })).ports[0]!;
    await pm.service.setPort({ name: 'run-follow', port: to });
    const [, second, secondPid] = (await r.line((l) => l.startsWith('listening ') && l !== `listening ${first} ${firstPid}`)).split(' ');
    expect(Number(second)).toBe(to);
    expect(secondPid).not.toBe(firstPid);
    await registration((s) => s.name === 'run-follow' && s.pid === Number(secondPid) && s.port === to);
    // The new child listens on the new port.
    await new Promise<void>((resolve, reject) => net.connect(to, '127.0.0.1', resolve).once('error', reject).unref());
    r.child.kill('SIGTERM');
    expect(await r.done).toBe(143);
    await expect(pm.service.get({ name: 'run-follow' })).rejects.toMatchObject({ code: -32001 });
  });

  it('a command that cannot start exits 127 and gives the port back', async () => {
    const r = runCli(['run-missing', '--', '/nonexistent/program']);
    expect(await r.done).toBe(127);
    expect(r.stderr()).toContain('cannot run /nonexistent/program: ENOENT');
    await expect(pm.service.get({ name: 'run-missing' })).rejects.toMatchObject({ code: -32001 });
  });
});
