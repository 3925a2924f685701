// A configuration error stops `portmand daemon` at once with exit 78
// (EX_CONFIG, which the units do not restart) and a message naming the
// variable or the file and key; it never gets as far as starting.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, cleanup, ROOT, tempDir } from './harness.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) cleanup(dir);
});

/** Runs `portmand daemon`; a daemon that gets as far as ready is stopped and reported as 'started'. */
function daemonOutcome(env: NodeJS.ProcessEnv): Promise<{ code: number | 'started' | null; stderr: string }> {
  const dir = tempDir();
  dirs.push(dir);
  const base = { PORTMAND_SOCKET: path.join(dir, 'pm.sock'), PORTMAND_STATE_DIR: path.join(dir, 'state') };
  const child = spawn(process.execPath, [CLI, 'daemon'], { env: { ...process.env, ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let started = false;
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  child.stdout.on('data', (d: Buffer) => {
    if (!started && d.toString().includes('portmand ready')) {
      started = true;
      child.kill('SIGTERM');
    }
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code: started ? 'started' : code, stderr })));
}

function configFile(json: unknown): string {
  const dir = tempDir();
  dirs.push(dir);
  const file = path.join(dir, 'portmand.json');
  writeFileSync(file, JSON.stringify(json));
  return file;
}

describe('portmand daemon with a bad configuration', () => {
  it('exits 78 naming PORTMAND_LOG_LEVEL when it is not a level', async () => {
    const r = await daemonOutcome({ PORTMAND_LOG_LEVEL: 'loud' });
    expect(r.code).toBe(78);
    expect(r.stderr).toMatch(/^portmand: PORTMAND_LOG_LEVEL must be one of "fatal", .*, got "loud"\n$/);
  });

  it('exits 78 naming a bad environment variable of any kind', async () => {
    const r = await daemonOutcome({ PORTMAND_SCAN_INTERVAL: 'soon' });
    expect(r.code).toBe(78);
    expect(r.stderr).toContain('PORTMAND_SCAN_INTERVAL must be a whole number of seconds');
  });

  it.each([
    ['logLevel', { logLevel: 'loud' }],
    ['groupAccess', { groupAccess: 'yes' }],
    ['scanIntervalSec', { scanIntervalSec: 0 }],
  ])('exits 78 naming the config file and its key %s', async (key, json) => {
    const file = configFile(json);
    const r = await daemonOutcome({ PORTMAND_CONFIG: file });
    expect(r.code).toBe(78);
    expect(r.stderr.startsWith(`portmand: ${file}: ${key} must be `)).toBe(true);
  });

  it('exits 78 naming PORTMAND_LOG_FILE when the log file cannot be opened', async () => {
    const file = configFile({});
    const r = await daemonOutcome({ PORTMAND_LOG_FILE: path.join(file, 'under-a-file.log') });
    expect(r.code).toBe(78);
    expect(r.stderr).toContain('(PORTMAND_LOG_FILE)');
  });

  it('the systemd units do not restart on exit 78', () => {
    for (const unit of ['portmand.service', 'portmand-user.service']) {
      expect(readFileSync(path.join(ROOT, 'systemd', unit), 'utf8')).toMatch(/^RestartPreventExitStatus=78$/m);
    }
  });
});
