// The daemon as the host's service: started by socket activation on a socket
// it did not bind, and reached by another user through a group socket.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, CLI, runCli, startDaemon, tempDir, type Daemon } from './harness.ts';

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
function missing(tools: string[], root = false): string | null {
  const gone = tools.filter((t) => !has(t));
  if (root && process.getuid?.() !== 0) gone.push('root (uid 0)');
  if (gone.length === 0) return null;
  console.warn(`skipped: needs ${gone.join(', ')}`);
  return gone.join(', ');
}

describe('socket activation', () => {
  const skip = missing(['systemd-socket-activate']);
  it.skipIf(skip)('systemd-socket-activate starts the daemon on the inherited socket, and the waiting client is answered', async () => {
    const dir = tempDir();
    const socket = path.join(dir, 'pm.sock');
    const env = { PORTMAND_SOCKET: socket, PORTMAND_STATE_DIR: path.join(dir, 'state'), PATH: process.env.PATH ?? '/usr/bin:/bin' };
    const args = ['-l', socket, ...Object.entries(env).flatMap(([k, v]) => ['-E', `${k}=${v}`]), process.execPath, CLI, 'daemon'];
    const proc = spawn('systemd-socket-activate', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    createInterface({ input: proc.stdout }).on('line', (l) => lines.push(l));
    const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
    try {
      // The activator binds first and says so; the daemon is not running yet.
      await new Promise<void>((resolve) =>
        createInterface({ input: proc.stderr }).on('line', (l) => l.startsWith('Listening on') && resolve()),
      );
      // This call connects before the daemon exists: it waits in the kernel's queue until the daemon accepts.
      const r = await runCli(['status', '--json'], { PORTMAND_SOCKET: socket });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ daemon: { socket }, client: { socket, source: 'env' } });
      // status says which socket it talks to, and why that one.
      expect((await runCli(['status'], { PORTMAND_SOCKET: socket })).stdout).toContain(`socket:      ${socket} (from $PORTMAND_SOCKET)`);
      expect(lines.map((l) => JSON.parse(l)).find((rec) => rec.msg === 'listening')).toMatchObject({ activated: true });
      proc.kill('SIGTERM');
      expect(await exited).toBe(0);
      // The socket belongs to the manager: the daemon must not remove it on the way out.
      expect(existsSync(socket)).toBe(true);
    } finally {
      proc.kill('SIGKILL');
      cleanup(dir);
    }
  });
});

describe('a group socket (0660) for a root daemon', () => {
  const skip = missing(['runuser', 'groupadd', 'groupdel'], true);
  const group = `pmt${process.pid}`;
  let d: Daemon | undefined;
  let dir = '';
  beforeAll(async () => {
    if (skip) return;
    expect(spawnSync('groupadd', [group]).status).toBe(0);
    dir = tempDir();
    // mkdtemp makes 0700; others must be able to pass through to the socket.
    chmodSync(dir, 0o711);
    const config = path.join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ socket: { group, mode: '0660' } }));
    d = await startDaemon({ dir, env: { PORTMAND_CONFIG: config } });
  });
  afterAll(async () => {
    await d?.stop();
    if (dir) cleanup(dir);
    if (!skip) spawnSync('groupdel', [group]);
  });

  const asNobody = (extra: string[]) =>
    spawnSync('runuser', ['-u', 'nobody', ...extra, '--', process.execPath, CLI, 'status', '--json', '--socket', d!.socket], {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });

  it.skipIf(skip)('a member of the socket group calls the daemon', () => {
    const r = asNobody(['-g', group]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).daemon.socket).toBe(d!.socket);
  });

  it.skipIf(skip)('a user outside the group is refused by the OS', () => {
    const r = asNobody([]);
    expect(r.status).toBe(3);
    expect(r.stderr).toContain('permission denied');
  });
});
