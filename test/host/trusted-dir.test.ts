import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ancestorProblem, ancestorsOf, dirProblem, type DirFacts, type DirRule, type Self } from '../../daemon/host/trusted-dir.ts';

const SOCKET: DirRule = { role: 'socket directory', setting: 'PORTMAND_SOCKET', rootMayOwn: true, stickyShared: true };
const STATE: DirRule = { role: 'state dir', setting: 'PORTMAND_STATE_DIR', rootMayOwn: false, stickyShared: false };
const ME = 1000;
/** This daemon's user: uid 1000, whose primary group 1000 is its private group. */
const SELF: Self = { uid: ME, privateGid: 1000 };
const MY_GROUP = 1000;

function dir(uid: number, mode: number, kind: 'dir' | 'link' | 'file' = 'dir', gid = 100): DirFacts {
  return { uid, gid, mode, isDirectory: () => kind === 'dir', isSymbolicLink: () => kind === 'link' };
}

describe('dirProblem', () => {
  it.each<[string, DirFacts, DirRule, RegExp | null]>([
    ['our own 0700 socket directory', dir(ME, 0o700), SOCKET, null],
    ['our own 0711 (others pass through to a shared socket)', dir(ME, 0o711), SOCKET, null],
    ['root-owned /run/portmand 0755', dir(0, 0o755), SOCKET, null],
    ['/tmp: root-owned, 1777', dir(0, 0o1777), SOCKET, null],
    ['a symlink, whoever owns it', dir(ME, 0o777, 'link'), SOCKET, /^socket directory \/d is a symbolic link: refusing to follow it/],
    ['a file', dir(ME, 0o600, 'file'), SOCKET, /^socket directory \/d exists and is not a directory/],
    [
      'another user’s',
      dir(65534, 0o700),
      SOCKET,
      /is owned by uid 65534, not by this daemon's user \(uid 1000\) or root: .*PORTMAND_SOCKET/,
    ],
    ['world-writable without the sticky bit', dir(ME, 0o777), SOCKET, /is writable by all users \(mode 0777\) without the sticky bit/],
    ['group-writable', dir(0, 0o775), SOCKET, /is writable by its group \(mode 0775\)/],
    ['our own 0700 state dir', dir(ME, 0o700), STATE, null],
    ['a 0755 state dir (left as the admin made it)', dir(ME, 0o755), STATE, null],
    [
      'a root-owned state dir for a user daemon',
      dir(0, 0o700),
      STATE,
      /^state dir \/d is owned by uid 0, not by this daemon's user \(uid 1000\):/,
    ],
    ['a sticky shared state dir', dir(ME, 0o1777), STATE, /^state dir \/d is writable by all users \(mode 1777\): .*chmod 700 \/d/],
    ['a symlinked state dir', dir(ME, 0o700, 'link'), STATE, /^state dir \/d is a symbolic link.*PORTMAND_STATE_DIR/],
    ['a state dir writable by our private group', dir(ME, 0o770, 'dir', MY_GROUP), STATE, null],
    ['a state dir writable by another group', dir(ME, 0o770, 'dir', 100), STATE, /writable by its group \(mode 0770\)/],
  ])('%s', (_, facts, rule, expected) => {
    const problem = dirProblem('/d', facts, SELF, rule);
    if (expected === null) expect(problem).toBeNull();
    else expect(problem).toMatch(expected);
  });

  it('where there are no uids, checks only that it is a real directory', () => {
    expect(dirProblem('/d', dir(0, 0o777), null, STATE)).toBeNull();
    expect(dirProblem('/d', dir(0, 0o777, 'link'), null, STATE)).toMatch(/symbolic link/);
  });

  it('a root daemon accepts root-owned directories, and no other user’s', () => {
    const root: Self = { uid: 0, privateGid: null };
    expect(dirProblem('/d', dir(0, 0o700), root, STATE)).toBeNull();
    expect(dirProblem('/d', dir(ME, 0o700), root, SOCKET)).toMatch(/owned by uid 1000/);
  });
});

describe('ancestorProblem', () => {
  it.each<[string, DirFacts, RegExp | null]>([
    ['/ and /home: root-owned 0755', dir(0, 0o755), null],
    ['our own home, 0700 or 0755', dir(ME, 0o755), null],
    ['/tmp: root-owned 1777', dir(0, 0o1777), null],
    [
      'another user’s directory',
      dir(65534, 0o755),
      /^state dir \/a\/d is inside \/a, which is owned by uid 65534: its owner could put their own state dir in its place; set PORTMAND_STATE_DIR/,
    ],
    [
      'world-writable without the sticky bit',
      dir(0, 0o777),
      /^state dir \/a\/d is inside \/a, which is writable by all users \(mode 0777\) without the sticky bit/,
    ],
    ['group-writable', dir(ME, 0o775), /which is writable by its group \(mode 0775\) without the sticky bit/],
    ['ours, writable by our private group (umask 002: ~/.local 0775)', dir(ME, 0o775, 'dir', MY_GROUP), null],
    ['root’s, writable by a group that is our private one by number', dir(0, 0o775, 'dir', MY_GROUP), /writable by its group/],
    ['a file where a directory should be', dir(ME, 0o755, 'file'), /which is not a directory/],
  ])('%s', (_, facts, expected) => {
    const problem = ancestorProblem('/a/d', '/a', facts, SELF, STATE);
    if (expected === null) expect(problem).toBeNull();
    else expect(problem).toMatch(expected);
  });

  it('where there are no uids, checks only that it is a directory', () => {
    expect(ancestorProblem('/a/d', '/a', dir(65534, 0o777), null, STATE)).toBeNull();
  });
});

describe('ancestorsOf', () => {
  it('lists every directory that holds a name on the way, through a symlink, root first', async () => {
    const base = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'pm-anc-')));
    try {
      mkdirSync(path.join(base, 'real', 'inner'), { recursive: true });
      symlinkSync(path.join(base, 'real'), path.join(base, 'link'));
      const dirs = await ancestorsOf(path.join(base, 'link', 'inner', 'state'));
      expect(dirs[0]).toBe('/');
      expect(dirs).toContain(base); // holds the link
      expect(dirs).toContain(path.join(base, 'real', 'inner'));
      expect(dirs).toContain(path.join(base, 'real'));
      expect(dirs).not.toContain(path.join(base, 'link', 'inner', 'state'));
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });

  it('follows a link to a link from the directory that holds each: the middle one is on the way too', async () => {
    const base = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'pm-anc-')));
    try {
      for (const d of ['real', 'a', 'shared']) mkdirSync(path.join(base, d));
      symlinkSync(path.join(base, 'real'), path.join(base, 'shared', 'link2'));
      symlinkSync('../shared/link2', path.join(base, 'a', 'link'));
      const dirs = await ancestorsOf(path.join(base, 'a', 'link', 'state'));
      expect(dirs).toEqual(['/', ...ancestorsWithin(base), base, path.join(base, 'a'), path.join(base, 'shared'), path.join(base, 'real')]);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });

  it('takes `..` after a link as the kernel does, from where the link leads; a relative dir from the working directory', async () => {
    const base = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'pm-anc-')));
    try {
      mkdirSync(path.join(base, 'elsewhere', 'deep'), { recursive: true });
      mkdirSync(path.join(base, 'a'));
      symlinkSync(path.join(base, 'elsewhere', 'deep'), path.join(base, 'a', 'link'));
      const dirs = await ancestorsOf(`${base}/a/link/../state`); // not path.join: it would take `..` away first
      expect(dirs).toContain(path.join(base, 'elsewhere'));
      expect(dirs).not.toContain(path.join(base, 'a', 'state'));
      expect(await ancestorsOf(path.relative(process.cwd(), path.join(base, 'a', 'state')))).toContain(path.join(base, 'a'));
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});

/** The directories between / and `dir`, excluding both. */
function ancestorsWithin(dir: string): string[] {
  const out: string[] = [];
  for (let d = path.dirname(dir); d !== path.dirname(d); d = path.dirname(d)) out.unshift(d);
  return out;
}
