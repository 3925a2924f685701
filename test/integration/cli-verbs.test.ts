// `portmand set-port` and `portmand detect` (issue 9, part 9) against the real
// daemon, with real listeners; `restart` and `show` are tested with the
// features they drive (restart.test.ts, cli.test.ts).
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { completionScript } from '../../client/cli/completion.ts';
import { VERBS } from '../../client/cli/main.ts';
import { otherUsersUnavailable, passable } from './access-users.ts';
import { CLI, cleanup, startDaemon, tempDir, useDaemon } from './harness.ts';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

const daemon = useDaemon();
const servers: net.Server[] = [];
afterAll(() => servers.forEach((s) => s.close()));

async function listen(port = 0): Promise<number> {
  const server = net.createServer().listen(port, '127.0.0.1');
  servers.push(server);
  await once(server, 'listening');
  return (server.address() as net.AddressInfo).port;
}

/** A port nothing holds now (listened on, then closed). */
async function freePort(): Promise<number> {
  const port = await listen();
  const server = servers.pop()!;
  await new Promise((r) => server.close(r));
  return port;
}

describe('portmand set-port', () => {
  it('moves a service and prints where it is; --json prints the service', async () => {
    const [from, to, again] = [await freePort(), await freePort(), await freePort()];
    await daemon().client().service.register({ name: 'sp-web', port: from });
    const r = await daemon().cliInProcess(['set-port', 'sp-web', String(to)]);
    expect(r).toMatchObject({ code: 0, stdout: `sp-web is on ${to}/tcp\n` });
    const j = await daemon().cliInProcess(['set-port', 'sp-web', String(again), '--json']);
    expect(j.code).toBe(0);
    expect(JSON.parse(j.stdout)).toMatchObject({ name: 'sp-web', port: again, protocol: 'tcp' });
    expect((await daemon().client().service.get({ name: 'sp-web' })).port).toBe(again);
  });

  it("refuses another service's port (-32002) and an unknown service (-32001) with exit 1, changing nothing", async () => {
    const [a, b] = [await freePort(), await freePort()];
    await daemon().client().service.register({ name: 'sp-a', port: a });
    await daemon().client().service.register({ name: 'sp-b', port: b });
    const taken = await daemon().cliInProcess(['set-port', 'sp-a', String(b)]);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain(`port ${b} is unavailable`);
    const json = await daemon().cliInProcess(['set-port', 'sp-a', String(b), '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { kind: 'daemon', code: -32002, data: { port: b } } });
    const unknown = await daemon().cliInProcess(['set-port', 'sp-nothing', String(a), '--json']);
    expect(unknown.code).toBe(1);
    expect(JSON.parse(unknown.stdout)).toMatchObject({ error: { code: -32001 } });
    expect((await daemon().client().service.get({ name: 'sp-a' })).port).toBe(a);
  });

  it('says what is wrong with its arguments (exit 2) and has --help', async () => {
    const bad = await daemon().cliInProcess(['set-port', 'sp-a', 'eighty']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('<port>');
    expect((await daemon().cliInProcess(['set-port', 'sp-a'])).code).toBe(2);
    const help = await daemon().cliInProcess(['set-port', '--help']);
    expect(help).toMatchObject({ code: 0 });
    expect(help.stdout).toContain('Usage: portmand set-port <service> <port>');
  });
});

describe('portmand detect', () => {
  it('scans now and lists the conflict a new foreign listener makes; --json gives the conflicts', async () => {
    // The service's owner is another process: this test's listener on its port is foreign.
    const owner = spawn('sleep', ['60']);
    try {
      const port = await freePort();
      await daemon().client().service.register({ name: 'dt-web', port, pid: owner.pid! });
      await listen(port);
      const r = await daemon().cliInProcess(['detect', '--json']);
      expect(r.code).toBe(0);
      const found = JSON.parse(r.stdout) as Array<{ port: number; type: string; services: string[] }>;
      expect(found).toContainEqual(expect.objectContaining({ port, type: 'foreign_listener', services: ['dt-web'] }));
      const text = await daemon().cliInProcess(['detect']);
      expect(text.code).toBe(0);
      expect(text.stdout).toMatch(new RegExp(`${port}/tcp\\s+foreign_listener`));
    } finally {
      owner.kill('SIGKILL');
    }
  });
});

describe('help and completion name the new verbs', () => {
  it('lists set-port and detect', async () => {
    const help = await daemon().cliInProcess(['--help']);
    expect(help.stdout).toMatch(/set-port <service> <port>/);
    expect(help.stdout).toMatch(/\n {2}detect /);
    for (const shell of ['bash', 'zsh', 'fish'] as const) {
      const script = completionScript(shell, VERBS);
      expect(script).toContain('set-port');
      expect(script).toContain('detect');
    }
  });
});

const unavailable = otherUsersUnavailable();
describe.skipIf(unavailable !== null)("set-port on another user's service", () => {
  it('exits 1 with the -32004 message naming the owner', async () => {
    const dir = tempDir();
    passable(dir);
    const config = path.join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ socket: { mode: '0666' } }));
    const d = await startDaemon({ dir, env: { PORTMAND_CONFIG: config } });
    try {
      const port = await freePort();
      await d.client().service.register({ name: 'sp-root', port });
      const r = spawnSync(
        'setpriv',
        ['--reuid=4242', '--regid=4242', '--clear-groups', process.execPath, CLI, 'set-port', 'sp-root', String(await freePort())],
        { env: { PATH: process.env.PATH, HOME: '/', PORTMAND_SOCKET: d.socket, NO_COLOR: '1' }, encoding: 'utf8' },
      );
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('permission denied: service "sp-root" belongs to root');
      expect(r.stderr).toContain('owner: root (uid 0)');
      expect((await d.client().service.get({ name: 'sp-root' })).port).toBe(port);
    } finally {
      await d.stop();
      cleanup(dir);
    }
  });
});
