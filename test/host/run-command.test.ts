import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OUTPUT_LIMIT_BYTES, runCommand } from '../../daemon/host/run-command.ts';
import { cleanup, tempDir } from '../integration/harness.ts';

const node = process.execPath;
const dir = tempDir();
afterAll(() => cleanup(dir));

/** Gone, or a zombie waiting for a parent that will never come (only init reaps orphans). */
function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8')
      .replace(/^.*\) /s, '')
      .startsWith('Z');
  } catch {
    return true;
  }
}

/** SIGKILL is delivered at once but a process leaves the table a moment later: there is no event to await for a pid that is not our child. */
async function untilGone(pid: number): Promise<boolean> {
  for (let i = 0; i < 250 && !gone(pid); i++) await new Promise((r) => setTimeout(r, 20));
  return gone(pid);
}

describe('runCommand', () => {
  it('runs argv without a shell, with exactly the environment given (plus a fixed PATH)', async () => {
    const o = await runCommand({
      argv: [node, '-e', 'process.stdout.write(JSON.stringify([process.argv[1], process.env]))', '$HOME; echo hi'],
      env: { PORT: '1234' },
      timeoutMs: 10_000,
    });
    expect(o).toMatchObject({ exitCode: 0, timedOut: false, droppedBytes: 0 });
    const [arg, env] = JSON.parse(o.stdout) as [string, Record<string, string>];
    expect(arg).toBe('$HOME; echo hi');
    expect(env.PORT).toBe('1234');
    expect(env.PATH).toBeDefined();
    expect(env.PORTMAND_SOCKET).toBeUndefined();
    expect(Object.keys(env).filter((k) => !['PORT', 'PATH'].includes(k))).toEqual([]);
  });

  it('keeps at most OUTPUT_LIMIT_BYTES of output and counts the rest', async () => {
    const o = await runCommand({
      argv: [node, '-e', `process.stdout.write('x'.repeat(${OUTPUT_LIMIT_BYTES * 3}))`],
      env: {},
      timeoutMs: 10_000,
    });
    expect(o.stdout.length).toBe(OUTPUT_LIMIT_BYTES);
    expect(o.droppedBytes).toBe(OUTPUT_LIMIT_BYTES * 2);
  });

  it('reports a program that cannot start, and a non-zero exit', async () => {
    expect(await runCommand({ argv: [path.join(dir, 'no-such-program')], env: {}, timeoutMs: 10_000 })).toMatchObject({
      exitCode: null,
      spawnError: 'ENOENT',
    });
    expect(await runCommand({ argv: [node, '-e', 'process.exit(3)'], env: {}, timeoutMs: 10_000 })).toMatchObject({
      exitCode: 3,
      timedOut: false,
    });
  });

  it('a timeout kills the whole process group: the command and the child it started', async () => {
    const pids = path.join(dir, 'pids');
    // A shell, not node: it has started its child and written both pids within milliseconds,
    // so a short timeout still lands while both run. Without job control the background
    // `sleep` stays in the command's process group; `wait` keeps the command itself running.
    const script = 'sleep 1000 & echo "[$$,$!]" > "$1"; wait';
    const o = await runCommand({ argv: ['/bin/sh', '-c', script, 'sh', pids], env: {}, timeoutMs: 500 });
    expect(o).toMatchObject({ timedOut: true, exitCode: null, signal: 'SIGKILL' });
    const [parent, grandchild] = JSON.parse(readFileSync(pids, 'utf8')) as [number, number];
    expect(await untilGone(parent)).toBe(true);
    expect(await untilGone(grandchild)).toBe(true);
  });

  it('a command that leaves a child in the background is answered when the command itself exits', async () => {
    const pidFile = path.join(dir, 'bg');
    const script = `
      const c = require('child_process').spawn('sleep', ['1000'], { stdio: 'inherit' });
      require('fs').writeFileSync(${JSON.stringify(pidFile)}, String(c.pid));
      c.unref();`;
    const o = await runCommand({ argv: [node, '-e', script], env: {}, timeoutMs: 60_000 });
    expect(o).toMatchObject({ exitCode: 0, timedOut: false });
    process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL');
  });

  it('as root, runs the command as the uid and gid it is given', async () => {
    if (process.getuid?.() !== 0) {
      console.log('skipped: switching uid needs a root test run');
      return;
    }
    let uid: number;
    let gid: number;
    try {
      uid = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }));
      gid = Number(execFileSync('id', ['-g', 'nobody'], { encoding: 'utf8' }));
    } catch {
      console.log('skipped: this host has no user "nobody"');
      return;
    }
    const o = await runCommand({ argv: ['id', '-u'], env: {}, timeoutMs: 10_000, uid, gid });
    expect(o).toMatchObject({ exitCode: 0 });
    expect(Number(o.stdout)).toBe(uid);
  });
});
