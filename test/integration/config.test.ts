// A configuration error stops `portmand daemon` at once with exit 78
// (EX_CONFIG, which the units do not restart) and a message naming the
// variable or the file and key; it never gets as far as starting.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { EffectiveConfig } from '../../client/protocol.ts';
import { CLI, cleanup, ROOT, runCli, runCliInProcess, tempDir, useDaemon } from './harness.ts';

// `portmand config` runs in-process (the same main()) except where the process's exit code is the point.

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) cleanup(dir);
});
// Dirs that a file-wide daemon reads from outlive each test.
const kept: string[] = [];
afterAll(() => {
  for (const dir of kept.splice(0)) cleanup(dir);
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

  // One daemon start for three kinds of key: it names every problem, a line each (each rule's wording: test/config).
  it('exits 78 naming the config file and each bad key: logLevel, groupAccess, scanIntervalSec', async () => {
    const file = configFile({ logLevel: 'loud', groupAccess: 'yes', scanIntervalSec: 0 });
    const r = await daemonOutcome({ PORTMAND_CONFIG: file });
    expect(r.code).toBe(78);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    for (const key of ['logLevel', 'groupAccess', 'scanIntervalSec'])
      expect(
        lines.some((l) => l.startsWith(`portmand: ${file}: ${key} must be `)),
        key,
      ).toBe(true);
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

describe('portmand config', () => {
  const d = useDaemon({
    env: {
      PORTMAND_CONFIG: configAt('daemon.json', { healthIntervalSec: 120, ranges: [{ name: 'web', start: 8000, end: 8099 }] }, true),
      PORTMAND_SYNC: 'ack',
    },
  });

  it('--json asks the running daemon: values from its file and from its environment, each with its source', async () => {
    // Only the socket: the CLI's own environment knows nothing of the daemon's file or variables.
    const r = await runCli(['config', '--json'], { PORTMAND_SOCKET: d().socket });
    expect(r.code).toBe(0);
    const view = JSON.parse(r.stdout) as EffectiveConfig & { origin: string };
    const file = d().env.PORTMAND_CONFIG!;
    expect(view.origin).toBe('daemon');
    expect(view.file).toEqual({ path: file, from: 'env', found: true });
    const at = (key: string) => view.settings.find((s) => s.key === key);
    expect(at('healthIntervalSec')).toEqual({
      key: 'healthIntervalSec',
      value: 120,
      source: { from: 'file', path: file, key: 'healthIntervalSec' },
    });
    expect(at('ranges')?.source).toEqual({ from: 'file', path: file, key: 'ranges' });
    expect(at('scanIntervalSec')).toEqual({
      key: 'scanIntervalSec',
      value: 1,
      source: { from: 'env', variable: 'PORTMAND_SCAN_INTERVAL' },
    });
    expect(at('sync')).toEqual({ key: 'sync', value: 'ack', source: { from: 'env', variable: 'PORTMAND_SYNC' } });
    expect(at('avoidEphemeral')).toEqual({ key: 'avoidEphemeral', value: true, source: { from: 'default' } });
  });

  it('shows the same as a table, each source named', async () => {
    const r = await runCliInProcess(['config'], { PORTMAND_SOCKET: d().socket });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`config file: ${d().env.PORTMAND_CONFIG} (from PORTMAND_CONFIG)`);
    expect(r.stdout).toMatch(/^healthIntervalSec +120 +file \/.*daemon\.json$/m);
    expect(r.stdout).toMatch(/^scanIntervalSec +1 +env PORTMAND_SCAN_INTERVAL$/m);
    expect(r.stdout).toMatch(/^ranges +system 0-1023, registered 1024-49151, dynamic 49152-65535, web 8000-8099 +file /m);
    expect(r.stdout).toMatch(/^avoidEphemeral +true +default$/m);
  });
});

describe('portmand config with no daemon running', () => {
  it('computes what a daemon started from this shell would use, and says so', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const env = {
      PORTMAND_SOCKET: path.join(dir, 'none.sock'),
      PORTMAND_CONFIG: configAt('local.json', { scanIntervalSec: 42 }),
      PORTMAND_LOG_LEVEL: 'warn',
    };
    const r = await runCliInProcess(['config', '--json'], env);
    expect(r.code).toBe(0);
    const view = JSON.parse(r.stdout) as EffectiveConfig & { origin: string; note: string };
    expect(view.origin).toBe('local');
    expect(view.note).toContain('no daemon runs at');
    expect(view.settings.find((s) => s.key === 'scanIntervalSec')).toEqual({
      key: 'scanIntervalSec',
      value: 42,
      source: { from: 'file', path: env.PORTMAND_CONFIG, key: 'scanIntervalSec' },
    });
    expect(view.settings.find((s) => s.key === 'logLevel')?.source).toEqual({ from: 'env', variable: 'PORTMAND_LOG_LEVEL' });
    const human = await runCliInProcess(['config'], env);
    expect(human.code).toBe(0);
    expect(human.stderr).toContain(
      `portmand: no daemon runs at ${env.PORTMAND_SOCKET}: this is what a daemon started from this shell would use`,
    );
  });

  it('exits 78 naming each problem when that configuration is bad', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const r = await runCliInProcess(['config'], {
      PORTMAND_SOCKET: path.join(dir, 'none.sock'),
      PORTMAND_CONFIG: configAt('bad.json', { colour: 1 }),
      PORTMAND_SCAN_INTERVAL: 'soon',
    });
    expect(r.code).toBe(78);
    expect(r.stderr).toMatch(/bad\.json: colour is not a known key/);
    expect(r.stderr).toContain('PORTMAND_SCAN_INTERVAL must be a whole number');
  });

  it('with --socket naming a daemon that is not there, exits 3 rather than guessing', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const r = await runCliInProcess(['config', '--socket', path.join(dir, 'none.sock')], {});
    expect(r.code).toBe(3);
  });
});

describe('portmand config check', () => {
  it('says ok and exits 0 for a valid file', async () => {
    const file = configAt('good.json', { ranges: [{ name: 'web', start: 8000, end: 8099 }], socket: { group: 'portmand' }, access: {} });
    const r = await runCliInProcess(['config', 'check', file], {});
    expect(r).toMatchObject({ code: 0, stdout: `${file}: ok\n`, stderr: '' });
  });

  it('names every problem by its key path and exits 78', async () => {
    const file = configAt('bad.json', {
      logLevel: 'loud',
      socket: { owner: 'x' },
      ranges: [{ name: 'web', start: 1, end: 2, colour: 'x' }],
      reservations: [{ port: 70000 }],
      extra: true,
    });
    const r = await runCli(['config', 'check', file], {});
    expect(r.code).toBe(78);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(5);
    for (const key of ['extra', 'ranges[0].colour', 'reservations[0].port', 'logLevel', 'socket.owner'])
      expect(lines.some((l) => l.startsWith(`portmand: ${file}: ${key} `))).toBe(true);
    const json = await runCliInProcess(['config', 'check', file, '--json'], {});
    expect(json.code).toBe(78);
    expect(JSON.parse(json.stdout)).toMatchObject({
      path: file,
      ok: false,
      problems: expect.arrayContaining([expect.stringContaining(`${file}: extra is not a known key`)]),
    });
  });

  it('checks the file PORTMAND_CONFIG names when none is given; a file that is not there, or not JSON, exits 78', async () => {
    const good = configAt('env.json', { sync: 'ack' });
    expect(await runCliInProcess(['config', 'check'], { PORTMAND_CONFIG: good })).toMatchObject({ code: 0, stdout: `${good}: ok\n` });
    const missing = path.join(path.dirname(good), 'missing.json');
    const r = await runCliInProcess(['config', 'check', missing], {});
    expect(r.code).toBe(78);
    expect(r.stderr).toContain(`cannot read config file ${missing}`);
    const notJson = path.join(path.dirname(good), 'broken.json');
    writeFileSync(notJson, '{ "sync": ');
    expect((await runCliInProcess(['config', 'check', notJson], {})).stderr).toContain(`config file ${notJson} is not valid JSON`);
  });

  it('checks the file alone: a variable that would override a bad key does not hide it', async () => {
    const file = configAt('masked.json', { logLevel: 'loud' });
    const r = await runCliInProcess(['config', 'check', file], { PORTMAND_LOG_LEVEL: 'info' });
    expect(r.code).toBe(78);
    expect(r.stderr).toContain(`${file}: logLevel must be one of`);
  });
});

describe('portmand daemon with unknown keys', () => {
  it('exits 78 naming the unknown key, and every other problem with it', async () => {
    const file = configFile({ colour: 'red', scanIntervalSec: 0 });
    const r = await daemonOutcome({ PORTMAND_CONFIG: file });
    expect(r.code).toBe(78);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(`portmand: ${file}: colour is not a known key`);
    expect(lines[1]).toMatch(`portmand: ${file}: scanIntervalSec must be`);
  });

  it('exits 78 when the file PORTMAND_CONFIG names is missing', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const r = await daemonOutcome({ PORTMAND_CONFIG: path.join(dir, 'nope.json') });
    expect(r.code).toBe(78);
    expect(r.stderr).toContain('(PORTMAND_CONFIG)');
  });
});

/** A config file in a temp dir of its own; `keep` for a daemon that outlives one test. */
function configAt(name: string, json: unknown, keep = false): string {
  const dir = tempDir();
  (keep ? kept : dirs).push(dir);
  const file = path.join(dir, name);
  writeFileSync(file, JSON.stringify(json));
  return file;
}
