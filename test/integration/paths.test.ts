// Issue 8 part 7, against the real daemon: the state dir is 0700 and every
// file in it 0600 whatever the umask, and the daemon refuses to start (exit
// 78, which the units do not restart on, with the path and the reason) on a
// socket path or directory another user could have planted or may change.
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PortmandClient } from '../../client/client.ts';
import { otherUsersUnavailable, passable } from './access-users.ts';
import { cleanup, runCli, startDaemon, tempDir, type Daemon } from './harness.ts';

const EX_CONFIG = 78;
const isRoot = process.getuid?.() === 0;
if (!isRoot) console.log('paths tests with directories of other users skipped: not running as root (chown needs it)');
const others = otherUsersUnavailable();
if (others) console.log(`paths test with a second user planting a symlink skipped: ${others}`);

const dirs: string[] = [];
const daemons: Daemon[] = [];
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.stop();
  for (const dir of dirs.splice(0)) cleanup(dir);
});

function dirFor(): string {
  const dir = tempDir();
  dirs.push(dir);
  return dir;
}

/** Runs a daemon that is expected to refuse to start; resolves to its exit code and stderr. */
async function refused(dir: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stderr: string }> {
  const config = path.join(dir, 'config.json');
  writeFileSync(config, '{}\n');
  const { code, stderr } = await runCli(['daemon'], {
    PORTMAND_SOCKET: path.join(dir, 'pm.sock'),
    PORTMAND_STATE_DIR: path.join(dir, 'state'),
    PORTMAND_CONFIG: config,
    ...env,
  });
  return { code, stderr };
}

const modes = (dir: string) =>
  Object.fromEntries(
    readdirSync(dir).map((f) => [f.replace(/corrupt-.*/, 'corrupt-*'), (statSync(path.join(dir, f)).mode & 0o777).toString(8)]),
  );

describe('state files', () => {
  it('under umask 000 the daemon makes its socket and state dirs 0700 and every state file 0600, moved-aside ones too', async () => {
    const dir = dirFor();
    const socket = path.join(dir, 'run', 'pm.sock');
    const state = path.join(dir, 'state');
    const start = async () => {
      const previous = process.umask(0); // the child inherits it at spawn, which startDaemon does before it awaits
      const started = startDaemon({ dir, env: { PORTMAND_SOCKET: socket } });
      process.umask(previous);
      const d = await started;
      daemons.push(d);
      return d;
    };
    const first = await start();
    const pm = new PortmandClient({ socketPath: socket });
    await pm.service.register({ name: 'kept', port: 18950 });
    expect(statSync(state).mode & 0o777).toBe(0o700);
    expect(statSync(path.dirname(socket)).mode & 0o777).toBe(0o700);
    expect(statSync(socket).mode & 0o777).toBe(0o600);
    expect(modes(state)).toEqual({ 'state.json': '600', 'journal.ndjson': '600', 'portmand.lock': '600' });
    pm.close();
    expect(await first.stop()).toBe(0);

    // An older portmand's world-readable files, one of them damaged: moved aside, and private.
    writeFileSync(path.join(state, 'journal.ndjson'), 'not json\n{"seq":2}\n');
    chmodSync(path.join(state, 'journal.ndjson'), 0o666);
    chmodSync(path.join(state, 'state.json'), 0o666);
    const second = await start();
    await second.waitForLog((r) => r.level === 50 && /journal .* is corrupt/.test(String(r.msg)));
    const pm2 = new PortmandClient({ socketPath: socket });
    expect((await pm2.service.get({ name: 'kept' })).port).toBe(18950);
    await pm2.port.allocate({ service: 'later' });
    pm2.close();
    expect(modes(state)).toEqual({
      'state.json': '600',
      'journal.ndjson': '600',
      'portmand.lock': '600',
      'journal.ndjson.corrupt-*': '600',
    });
  });
});

describe('refusals at start', () => {
  it('a symlink planted at the socket path: exit 78 naming it, and neither the link nor its target is touched', async () => {
    const dir = dirFor();
    const target = path.join(dir, 'precious');
    writeFileSync(target, 'precious');
    symlinkSync(target, path.join(dir, 'pm.sock'));
    const { code, stderr } = await refused(dir);
    expect(code).toBe(EX_CONFIG);
    expect(stderr).toContain(
      `portmand: socket path ${path.join(dir, 'pm.sock')} is a symbolic link, not a socket: refusing to follow or replace it`,
    );
    expect(readlinkSync(path.join(dir, 'pm.sock'))).toBe(target);
    expect(readFileSync(target, 'utf8')).toBe('precious');
  });

  it('a world-writable socket directory without the sticky bit: exit 78, nothing created in it', async () => {
    const dir = dirFor();
    const shared = path.join(dir, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o777);
    const { code, stderr } = await refused(dir, { PORTMAND_SOCKET: path.join(shared, 'pm.sock') });
    expect(code).toBe(EX_CONFIG);
    expect(stderr).toContain(`portmand: socket directory ${shared} is writable by all users (mode 0777) without the sticky bit`);
    expect(readdirSync(shared)).toEqual([]);
  });

  it('a symlinked state dir: exit 78, nothing written through it', async () => {
    const dir = dirFor();
    const real = path.join(dir, 'real');
    mkdirSync(real, { mode: 0o700 });
    symlinkSync(real, path.join(dir, 'state'));
    const { code, stderr } = await refused(dir);
    expect(code).toBe(EX_CONFIG);
    expect(stderr).toContain(`portmand: state dir ${path.join(dir, 'state')} is a symbolic link: refusing to follow it`);
    expect(readdirSync(real)).toEqual([]);
  });

  it('a state dir or socket directory of our own inside a directory others may write: exit 78 naming that directory', async () => {
    const dir = dirFor();
    const open = path.join(dir, 'open');
    mkdirSync(path.join(open, 'state'), { recursive: true, mode: 0o700 });
    mkdirSync(path.join(open, 'run'), { mode: 0o700 });
    chmodSync(open, 0o777);
    const state = path.join(open, 'state');
    const stateDir = await refused(dir, { PORTMAND_STATE_DIR: state });
    expect(stateDir.code).toBe(EX_CONFIG);
    expect(stateDir.stderr).toContain(
      `portmand: state dir ${state} is inside ${open}, which is writable by all users (mode 0777) without the sticky bit`,
    );
    expect(readdirSync(state)).toEqual([]);
    const socketDir = await refused(dir, { PORTMAND_SOCKET: path.join(open, 'run', 'pm.sock') });
    expect(socketDir.code).toBe(EX_CONFIG);
    expect(socketDir.stderr).toContain(
      `portmand: socket directory ${path.join(open, 'run')} is inside ${open}, which is writable by all users`,
    );
    expect(readdirSync(path.join(open, 'run'))).toEqual([]);
  });

  it('a state dir reached through a link to a link that sits in a directory others may write: exit 78 naming that directory', async () => {
    // Whoever may write `open` may point `hop` elsewhere, though neither the path as written nor where it leads passes through it.
    const dir = dirFor();
    const open = path.join(dir, 'open');
    mkdirSync(path.join(dir, 'real', 'state'), { recursive: true, mode: 0o700 });
    mkdirSync(open);
    chmodSync(open, 0o777);
    symlinkSync(path.join(dir, 'real'), path.join(open, 'hop'));
    symlinkSync(path.join(open, 'hop'), path.join(dir, 'link'));
    const state = path.join(dir, 'link', 'state');
    const { code, stderr } = await refused(dir, { PORTMAND_STATE_DIR: state });
    expect(code).toBe(EX_CONFIG);
    expect(stderr).toContain(
      `portmand: state dir ${state} is inside ${open}, which is writable by all users (mode 0777) without the sticky bit`,
    );
    expect(readdirSync(path.join(dir, 'real', 'state'))).toEqual([]);
  });

  it.runIf(isRoot)('a state dir of our own inside another user’s directory: exit 78 naming that directory and its owner', async () => {
    const dir = dirFor();
    const theirs = path.join(dir, 'theirs');
    mkdirSync(path.join(theirs, 'state'), { recursive: true, mode: 0o700 });
    chownSync(theirs, 65534, 65534);
    const state = path.join(theirs, 'state');
    const { code, stderr } = await refused(dir, { PORTMAND_STATE_DIR: state });
    expect(code).toBe(EX_CONFIG);
    expect(stderr).toContain(`portmand: state dir ${state} is inside ${theirs}, which is owned by uid 65534`);
    expect(readdirSync(state)).toEqual([]);
  });

  it.runIf(isRoot)('a socket directory or state dir owned by another user: exit 78 naming it and its owner', async () => {
    const dir = dirFor();
    const theirs = path.join(dir, 'theirs');
    mkdirSync(theirs, { mode: 0o700 });
    chownSync(theirs, 65534, 65534);
    const socketDir = await refused(dir, { PORTMAND_SOCKET: path.join(theirs, 'pm.sock') });
    expect(socketDir.code).toBe(EX_CONFIG);
    expect(socketDir.stderr).toContain(
      `portmand: socket directory ${theirs} is owned by uid 65534, not by this daemon's user (uid 0) or root`,
    );
    const stateDir = await refused(dir, { PORTMAND_STATE_DIR: theirs });
    expect(stateDir.code).toBe(EX_CONFIG);
    expect(stateDir.stderr).toContain(`portmand: state dir ${theirs} is owned by uid 65534, not by this daemon's user (uid 0)`);
    expect(readdirSync(theirs)).toEqual([]);
  });

  it.runIf(others === null)(
    'another user’s symlink in a shared sticky directory (/tmp-like) is refused, its target untouched',
    async () => {
      const dir = dirFor();
      passable(dir);
      const shared = path.join(dir, 'shared');
      mkdirSync(shared);
      chmodSync(shared, 0o1777);
      const target = path.join(dir, 'root-only');
      writeFileSync(target, 'root only', { mode: 0o600 });
      const socket = path.join(shared, 'pm.sock');
      const planted = spawnSync('runuser', ['-u', 'nobody', '--', 'ln', '-s', target, socket]);
      expect(planted.status, String(planted.stderr)).toBe(0);
      expect(lstatSync(socket).uid).toBe(65534);
      const { code, stderr } = await refused(dir, { PORTMAND_SOCKET: socket });
      expect(code).toBe(EX_CONFIG);
      expect(stderr).toContain(`socket path ${socket} is a symbolic link, not a socket`);
      expect(readlinkSync(socket)).toBe(target);
      expect(readFileSync(target, 'utf8')).toBe('root only');
      expect(statSync(target).mode & 0o777).toBe(0o600);
    },
  );
});
