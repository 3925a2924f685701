// `portmand logs` against a real daemon writing PORTMAND_LOG_FILE: the last
// records, and following them across a rotation (rename, then SIGHUP).
import { spawn } from 'node:child_process';
import { renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { CLI, runCli, tempDir, cleanup, useDaemon } from './harness.ts';

const dir = tempDir();
const logFile = path.join(dir, 'portmand.log');

describe('portmand logs', () => {
  const daemon = useDaemon({ env: { PORTMAND_LOG_FILE: logFile, PORTMAND_LOG_LEVEL: 'info' } });

  it('-n shows the last records, pretty; --audit --service and --json select and keep them as JSON', async () => {
    const d = daemon();
    await d.client().service.register({ name: 'web', port: 18080 });
    await d.client().service.register({ name: 'api', port: 18081 });
    // The audit record is written before the reply: it is in the file now.
    const pretty = await runCli(['logs', '-n', '1', '--audit'], { PORTMAND_LOG_FILE: logFile });
    expect(pretty.stderr).toBe('');
    expect(pretty.stdout).toMatch(/^\S+Z INFO  audit service.register .*"name":"api"/);
    const json = await runCli(['logs', '--json', '--audit', '--service', 'web'], { PORTMAND_LOG_FILE: logFile });
    const recs = json.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({ audit: true, method: 'service.register', params: { name: 'web' }, ok: true });
    expect((await runCli(['logs', '--level', 'loud'], { PORTMAND_LOG_FILE: logFile })).code).toBe(2);
  });

  it('-f follows the file across a rotation: renamed away, reopened on SIGHUP', async () => {
    const d = daemon();
    await d.client().service.register({ name: 'before', port: 18090 });
    // -n 1 shows 'before' from the file first: once it is printed, the follower is reading from the end.
    const follower = spawn(process.execPath, [CLI, 'logs', '-f', '-n', '1', '--audit', '--json'], {
      env: { ...process.env, PORTMAND_LOG_FILE: logFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const names: string[] = [];
    const waiters: Array<[string, () => void]> = [];
    createInterface({ input: follower.stdout }).on('line', (line) => {
      const name = (JSON.parse(line) as { params: { name: string } }).params.name;
      names.push(name);
      for (const [n, resolve] of waiters) if (n === name) resolve();
    });
    const saw = (name: string) => new Promise<void>((resolve) => (names.includes(name) ? resolve() : waiters.push([name, resolve])));
    try {
      await saw('before');
      renameSync(logFile, `${logFile}.1`);
      await d.client().service.register({ name: 'between', port: 18091 }); // still written to the renamed file
      d.proc.kill('SIGHUP');
      await d.waitForLog((r) => r.msg === 'log file reopened');
      await d.client().service.register({ name: 'after', port: 18092 }); // the new file
      await saw('after');
      expect(names).toEqual(['before', 'between', 'after']);
    } finally {
      follower.kill('SIGINT');
      await new Promise((r) => follower.on('close', r));
    }
  });
});

describe('a configuration error', () => {
  it('exits 78 and names the key', async () => {
    const config = path.join(dir, 'bad.json');
    writeFileSync(config, JSON.stringify({ socket: { mode: '0777' } }));
    const r = await runCli(['daemon'], {
      PORTMAND_CONFIG: config,
      PORTMAND_SOCKET: path.join(dir, 'x.sock'),
      PORTMAND_STATE_DIR: path.join(dir, 'xs'),
    });
    expect(r.code).toBe(78);
    expect(r.stderr).toContain('socket.mode');
  });

  it('a socket group the host does not have exits 78 too (restarting cannot fix it)', async () => {
    const config = path.join(dir, 'nogroup.json');
    writeFileSync(config, JSON.stringify({ socket: { group: 'pm-no-such-group' } }));
    const r = await runCli(['daemon'], {
      PORTMAND_CONFIG: config,
      PORTMAND_SOCKET: path.join(dir, 'y.sock'),
      PORTMAND_STATE_DIR: path.join(dir, 'ys'),
    });
    expect(r.code).toBe(78);
    expect(r.stderr).toContain('socket.group "pm-no-such-group"');
    cleanup(dir);
  });
});
