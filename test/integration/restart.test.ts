import { existsSync, readFileSync, watch, writeFileSync } from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { PortmandClient, PortmandEvent } from '../../client/client.ts';
import { PortmandError } from '../../client/errors.ts';
import { cleanup, startDaemon, tempDir, useDaemon, type Daemon } from './harness.ts';

const daemon = useDaemon();
const node = process.execPath;
let pm: PortmandClient;
const restarted: Array<PortmandEvent<'service_restarted'>> = [];
const waiters: Array<{
  match: (e: PortmandEvent<'service_restarted'>) => boolean;
  resolve: (e: PortmandEvent<'service_restarted'>) => void;
}> = [];

beforeAll(async () => {
  pm = daemon().client({ sendPid: false });
  const watcher = daemon().client();
  await watcher.events.subscribe({ types: ['service_restarted'] });
  watcher.on('service_restarted', (e) => {
    restarted.push(e);
    for (const w of [...waiters]) if (w.match(e)) (waiters.splice(waiters.indexOf(w), 1), w.resolve(e));
  });
});

function nextRestart(service: string, reason: string): Promise<PortmandEvent<'service_restarted'>> {
  const match = (e: PortmandEvent<'service_restarted'>) => e.data.service === service && e.data.reason === reason;
  const seen = restarted.find(match);
  return seen ? Promise.resolve(seen) : new Promise((resolve) => waiters.push({ match, resolve }));
}

/** A restart command that writes its environment (and uid) to `file`. */
function envWriter(file: string): string[] {
  return [node, '-e', "require('fs').writeFileSync(process.argv[1], JSON.stringify({ env: process.env, uid: process.getuid() }))", file];
}

function readEnv(file: string): { env: Record<string, string>; uid: number } {
  return JSON.parse(readFileSync(file, 'utf8')) as { env: Record<string, string>; uid: number };
}

async function free(): Promise<number> {
  return (await pm.port.suggest({ count: 1 })).ports[0]!;
}

/** Resolves once `file` exists (fs.watch on its directory; no polling). */
function appears(file: string): Promise<void> {
  return new Promise((resolve) => {
    const w = watch(path.dirname(file), () => {
      if (existsSync(file)) (w.close(), resolve());
    });
    if (existsSync(file)) (w.close(), resolve());
  });
}

async function rpcError(p: Promise<unknown>): Promise<PortmandError> {
  try {
    await p;
  } catch (err) {
    return err as PortmandError;
  }
  throw new Error('expected a refusal');
}

describe('restart actions', () => {
  it('service.restart runs the command with the port in its environment, as the daemon user, and announces it', async () => {
    const out = path.join(daemon().dir, 'env-manual.json');
    const port = await free();
    const reg = await pm.service.register({ name: 'rs-manual', port, restart: { command: envWriter(out), env: { MODE: 'test' } } });
    // Every caller sees the result and the events: env values are hidden there; service.get shows them to the owner.
    expect(reg.restart).toEqual({ command: envWriter(out), env: { MODE: '***' } });
    expect((await pm.service.get({ name: 'rs-manual' })).restart).toEqual({ command: envWriter(out), env: { MODE: 'test' } });
    expect(await pm.service.restart({ name: 'rs-manual' })).toEqual({ name: 'rs-manual', restarted: true, exitCode: 0 });
    expect(await daemon().cliInProcess(['restart', 'rs-manual'])).toMatchObject({ code: 0, stdout: 'restarted rs-manual (exit code 0)\n' });
    const { env, uid } = readEnv(out);
    expect(env).toMatchObject({ PORT: String(port), PORTMAND_PORT: String(port), PORTMAND_SERVICE: 'rs-manual', MODE: 'test' });
    expect(env.PORTMAND_PREVIOUS_PORT).toBeUndefined();
    expect(env.PORTMAND_SOCKET).toBeUndefined(); // nothing of the daemon's own environment
    // The owner of every service is the daemon's user until callers are identified.
    expect(uid).toBe(process.getuid!());
    expect((await nextRestart('rs-manual', 'manual')).data).toEqual({
      service: 'rs-manual',
      port,
      reason: 'manual',
      ok: true,
      exitCode: 0,
    });
  });

  it('a restart runs with the new PORT after setPort when onPortChange is "restart"', async () => {
    const out = path.join(daemon().dir, 'env-moved.json');
    const [from, to] = (await pm.port.suggest({ count: 2 })).ports as [number, number];
    await pm.service.register({ name: 'rs-moved', port: from, restart: { command: envWriter(out) }, onPortChange: 'restart' });
    await pm.service.setPort({ name: 'rs-moved', port: to });
    expect((await nextRestart('rs-moved', 'port_changed')).data).toEqual({
      service: 'rs-moved',
      port: to,
      reason: 'port_changed',
      ok: true,
      exitCode: 0,
    });
    expect(readEnv(out).env).toMatchObject({ PORT: String(to), PORTMAND_PREVIOUS_PORT: String(from), PORTMAND_SERVICE: 'rs-moved' });
  });

  it('restarts are coalesced: never two at once, and requests during a run share the next one', async () => {
    const dir = daemon().dir;
    const [runLog, started, gate] = ['runs.log', 'started', 'gate'].map((f) => path.join(dir, f)) as [string, string, string];
    const script = `
      const fs = require('fs');
      const [log, started, gate] = process.argv.slice(1);
      fs.appendFileSync(log, 'start\\n');
      fs.writeFileSync(started, '');
      const wait = () => fs.existsSync(gate) ? (fs.appendFileSync(log, 'end\\n'), process.exit(0)) : setTimeout(wait, 20);
      wait();`.replace(/\n\s*/g, ' ');
    await pm.service.register({ name: 'rs-slow', port: await free(), restart: { command: [node, '-e', script, runLog, started, gate] } });
    const first = pm.service.restart({ name: 'rs-slow' });
    await appears(started);
    const coalesced = () => daemon().logs.filter((r) => r.msg === 'restart coalesced' && r.service === 'rs-slow').length;
    const second = pm.service.restart({ name: 'rs-slow' });
    const third = pm.service.restart({ name: 'rs-slow' });
    await daemon().waitForLog(() => coalesced() >= 2);
    writeFileSync(gate, '');
    const results = await Promise.all([first, second, third]);
    expect(results.every((r) => r.restarted)).toBe(true);
    expect(readFileSync(runLog, 'utf8')).toBe('start\nend\nstart\nend\n');
  });

  it('a timeout kills the command and what it started, and says so', async () => {
    const pids = path.join(daemon().dir, 'timeout-pids');
    // A shell, not node: it has started its child and written both pids within milliseconds,
    // so the shortest timeout (1 s) still lands while both run. The background `sleep` stays in
    // the command's process group; `wait` keeps the command itself running.
    const script = 'sleep 1000 & echo "[$$,$!]" > "$1"; wait';
    await pm.service.register({
      name: 'rs-hang',
      port: await free(),
      restart: { command: ['/bin/sh', '-c', script, 'sh', pids], timeoutSec: 1 },
    });
    const r = await pm.service.restart({ name: 'rs-hang' });
    expect(r).toEqual({ name: 'rs-hang', restarted: false, error: 'timed out after 1 s; its process group was killed' });
    const [parent, grandchild] = JSON.parse(readFileSync(pids, 'utf8')) as [number, number];
    for (const pid of [parent, grandchild]) {
      let alive = true;
      for (let i = 0; i < 250 && alive; i++) {
        try {
          process.kill(pid, 0);
          alive = !readFileSync(`/proc/${pid}/stat`, 'utf8')
            .replace(/^.*\) /s, '')
            .startsWith('Z');
          if (alive) await new Promise((res) => setTimeout(res, 20));
        } catch {
          alive = false;
        }
      }
      expect(alive).toBe(false);
    }
    expect((await nextRestart('rs-hang', 'manual')).data).toMatchObject({ ok: false, error: expect.stringContaining('timed out') });
  });

  it('`portmand restart` waits as long as the action may run, not the 60 s default, unless --timeout says otherwise', async () => {
    // The action runs until the test answers it on a socket of the test's: started, and finished, when the test says.
    const gate = path.join(daemon().dir, 'gate.sock');
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(gate, resolve));
    const action = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
    const script = "require('net').connect(process.argv[1]).on('data', () => process.exit(0))";
    await pm.service.register({ name: 'rs-long', port: await free(), restart: { command: [node, '-e', script, gate], timeoutSec: 600 } });
    // Only this process's timers are faked (the client's call timeout among them); the daemon and the action run on real time.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const cli = daemon().cliInProcess(['restart', 'rs-long']);
      const running = await action;
      // Past the client's 60 s default while the action still runs: the CLI must still be waiting.
      vi.advanceTimersByTime(61_000);
      running.write('done\n');
      expect(await cli).toMatchObject({ code: 0, stdout: 'restarted rs-long (exit code 0)\n' });
      // --timeout is the user's word: it is kept, even when shorter than the action may take.
      const again = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
      const impatient = daemon().cliInProcess(['--timeout', '30', 'restart', 'rs-long']);
      const second = await again;
      vi.advanceTimersByTime(31_000);
      expect((await impatient).code).toBe(3);
      second.write('done\n');
    } finally {
      vi.useRealTimers();
      server.close();
    }
  });

  it('without an action, service.restart says so and runs nothing', async () => {
    await pm.service.register({ name: 'rs-none', port: await free() });
    expect(await pm.service.restart({ name: 'rs-none' })).toEqual({
      name: 'rs-none',
      restarted: false,
      error: 'no restart action is configured for this service',
    });
    const cli = await daemon().cliInProcess(['restart', 'rs-none']);
    expect(cli).toMatchObject({ code: 1, stdout: 'rs-none not restarted: no restart action is configured for this service\n' });
  });

  it.each([
    [{ command: [] }, 'restart.command'],
    [{ command: 'echo hi' }, 'restart.command'],
    [{ command: ['echo', 'a\u001b[2Jb'] }, 'restart.command'],
    [{ command: ['echo'], env: { PORT: '1' } }, 'restart.env'],
    [{ command: ['echo'], env: { 'A B': '1' } }, 'restart.env'],
    [{ command: ['echo'], cwd: 'relative' }, 'restart.cwd'],
    [{ command: ['echo'], timeoutSec: 0 }, 'restart.timeoutSec'],
    [{ command: ['echo'], shell: true }, 'restart.shell'],
    [{ signal: 'SIGKILL' }, 'restart.signal'],
    [{ signal: 'SIGHUP', command: ['echo'] }, 'restart.command'],
  ])('refuses restart %j naming %s, and changes nothing', async (restart, field) => {
    const err = await rpcError(pm.call('service.register', { name: 'rs-bad', port: 1234, restart } as never));
    expect(err.code).toBe(-32602);
    expect(err.data).toMatchObject({ field });
    await expect(pm.service.get({ name: 'rs-bad' })).rejects.toMatchObject({ code: -32001 });
  });

  it('an update without restart keeps the action; null removes it', async () => {
    const port = await free();
    await pm.service.register({ name: 'rs-keep', port, restart: { signal: 'SIGHUP' }, onPortChange: 'restart' });
    expect(await pm.service.register({ name: 'rs-keep', port, tags: ['x'] })).toMatchObject({
      restart: { signal: 'SIGHUP' },
      onPortChange: 'restart',
    });
    expect(await pm.service.register({ name: 'rs-keep', port, restart: null })).not.toHaveProperty('restart');
  });
});

describe('restart actions on a socket others can connect to', () => {
  let shared: Daemon;
  afterAll(async () => {
    await shared?.stop();
    if (shared) cleanup(shared.dir);
  });

  it('on a shared socket, the owner may set one (a token holder may not: see the access rules)', async () => {
    const dir = tempDir();
    const config = path.join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ groupAccess: true }));
    shared = await startDaemon({ dir, env: { PORTMAND_CONFIG: config } });
    const c = shared.client({ sendPid: false });
    await c.service.register({ name: 'rs-shared', port: 1234, restart: { command: ['true'] } });
    expect((await c.service.get({ name: 'rs-shared' })).restart).toEqual({ command: ['true'] });
  });
});
