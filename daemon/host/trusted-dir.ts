// The directories the daemon keeps its socket, socket lock and state in.
// Whoever may write a directory may rename, delete and replace its entries,
// so a directory another user owns or may write could swap the socket for a
// symlink or the state files for the attacker's own. Such a directory is
// refused at start, with the path and the reason, never used and never fixed
// behind the admin's back. The same holds for every directory above it:
// whoever may write /srv/x may rename x/portmand away and put their own in
// its place, so each ancestor must be root's or ours and closed to others
// (sticky /tmp excepted), as OpenSSH's StrictModes asks of a home directory.
// A directory of ours writable by our private group (umask 002 under the
// user-private-group scheme makes ~/.local 0775) is writable by nobody else,
// so it passes, as Debian's OpenSSH lets it.
import type { Stats } from 'node:fs';
import { lstat, readlink, stat } from 'node:fs/promises';
import path from 'node:path';
import { privateGroupOf } from './users.ts';

/** A directory the daemon must not use: the message names it and what is wrong. */
export class UnsafePathError extends Error {
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(problem);
    this.name = 'UnsafePathError';
  }
}

export interface DirRule {
  /** What the directory is for, starting the message ("socket directory"). */
  role: string;
  /** The setting that chooses it, for the fix ("PORTMAND_SOCKET"). */
  setting: string;
  /** Root may own it too (/run, /tmp); otherwise only the daemon's user. */
  rootMayOwn: boolean;
  /** Others may write it if its sticky bit keeps them from replacing our entries (/tmp). */
  stickyShared: boolean;
}

export type DirFacts = Pick<Stats, 'uid' | 'mode'> & Partial<Pick<Stats, 'gid'>> & { isDirectory(): boolean; isSymbolicLink(): boolean };

/** Who the daemon runs as: its uid, and its private group if it has one (null: none, or not known). */
export interface Self {
  uid: number;
  privateGid: number | null;
}

/** Writable by others than the owner: by all, or by a group that is not the owner's private one. */
function writableByOthers(facts: DirFacts, self: Self): 'all users' | 'its group' | null {
  if (facts.mode & 0o002) return 'all users';
  if (!(facts.mode & 0o020)) return null;
  const privateToUs = self.privateGid !== null && facts.uid === self.uid && facts.gid === self.privateGid;
  return privateToUs ? null : 'its group';
}

/**
 * What makes `dir` unsafe for the daemon running as `uid` under `rule`, or
 * null. Pure: `facts` are the directory's own lstat, not its target's. Where
 * there are no uids (`uid` null: Windows) only the kind of file is checked.
 */
export function dirProblem(dir: string, facts: DirFacts, self: Self | null, rule: DirRule): string | null {
  const what = `${rule.role} ${dir}`;
  if (facts.isSymbolicLink())
    return `${what} is a symbolic link: refusing to follow it (another user may have planted it); set ${rule.setting} to the real directory`;
  if (!facts.isDirectory()) return `${what} exists and is not a directory; set ${rule.setting} to a directory`;
  if (self === null) return null;
  const { uid } = self;
  if (facts.uid !== uid && !(rule.rootMayOwn && facts.uid === 0))
    return (
      `${what} is owned by uid ${facts.uid}, not by this daemon's user (uid ${uid})${rule.rootMayOwn ? ' or root' : ''}: ` +
      `its owner could replace what the daemon keeps there; use a directory of your own (${rule.setting})`
    );
  const mode = facts.mode & 0o7777;
  const sticky = (mode & 0o1000) !== 0;
  const writers = writableByOthers(facts, self);
  if (writers && !(rule.stickyShared && sticky))
    return (
      `${what} is writable by ${writers} (mode ${mode.toString(8).padStart(4, '0')})` +
      `${rule.stickyShared ? ' without the sticky bit' : ''}: they could replace what the daemon keeps there; ` +
      `make it 0700 (chmod 700 ${dir}) or set ${rule.setting} to another`
    );
  return null;
}

/**
 * What makes `ancestor`, a directory above `dir`, unsafe, or null. `facts`
 * are the ancestor's stat (a symlinked ancestor is judged by where it leads;
 * the link itself sits in an ancestor judged too). Root or we may own it;
 * others may write it only if its sticky bit keeps them from renaming our
 * entries (/tmp).
 */
export function ancestorProblem(dir: string, ancestor: string, facts: DirFacts, self: Self | null, rule: DirRule): string | null {
  const what = `${rule.role} ${dir} is inside ${ancestor}, which`;
  const fix = `set ${rule.setting} to a directory under ones only you or root can change`;
  if (!facts.isDirectory()) return `${what} is not a directory; ${fix}`;
  if (self === null) return null;
  if (facts.uid !== self.uid && facts.uid !== 0)
    return `${what} is owned by uid ${facts.uid}: its owner could put their own ${rule.role} in its place; ${fix}`;
  const mode = facts.mode & 0o7777;
  const writers = writableByOthers(facts, self);
  if (writers && (mode & 0o1000) === 0)
    return (
      `${what} is writable by ${writers} (mode ${mode.toString(8).padStart(4, '0')}) without the sticky bit: ` +
      `they could rename what is below it and put their own in its place; ${fix}`
    );
  return null;
}

/** Symbolic links followed on the way to one directory, at most (Linux's own limit). */
const MAX_LINKS = 40;

/**
 * The directories above `dir`, root first: every directory that holds a name
 * on the way to it, as the kernel walks it. A symlink met is followed from the
 * directory that holds it, so a link to a link in /shared makes /shared one of
 * them: whoever may write there may point the way elsewhere. `..` is taken as
 * the kernel takes it, after the links before it.
 */
export async function ancestorsOf(dir: string): Promise<string[]> {
  const raw = path.isAbsolute(dir) ? dir : `${process.cwd()}${path.sep}${dir}`;
  const { root } = path.parse(raw);
  const todo = names(raw.slice(root.length));
  const holders = new Set<string>();
  let at = root;
  let links = 0;
  for (let name = todo.shift(); name !== undefined; name = todo.shift()) {
    if (name === '.') continue;
    if (name === '..') {
      at = path.dirname(at);
      continue;
    }
    holders.add(at);
    if (todo.length === 0) break; // `dir` itself: its own check (dirProblem) looks at it, and refuses a link
    const next = path.join(at, name);
    if (!(await lstat(next)).isSymbolicLink()) {
      at = next;
      continue;
    }
    if (++links > MAX_LINKS) throw Object.assign(new Error(`ELOOP: too many symbolic links on the way to ${dir}`), { code: 'ELOOP' });
    const target = await readlink(next);
    const targetRoot = path.parse(target).root;
    if (targetRoot) at = targetRoot;
    todo.unshift(...names(target.slice(targetRoot.length)));
  }
  return [...holders];
}

function names(p: string): string[] {
  return p.split(path.sep).filter((name) => name !== '');
}

/**
 * Throws UnsafePathError unless `dir` is a real directory that only we (or
 * root, by the rule) can change, under directories that only we or root can.
 */
export async function checkTrustedDir(dir: string, rule: DirRule): Promise<void> {
  const uid = process.geteuid?.() ?? null;
  const self = uid === null ? null : { uid, privateGid: await privateGroupOf(uid) };
  const problem = dirProblem(dir, await lstat(dir), self, rule);
  if (problem) throw new UnsafePathError(dir, problem);
  for (const ancestor of await ancestorsOf(dir)) {
    const above = ancestorProblem(dir, ancestor, await stat(ancestor), self, rule);
    if (above) throw new UnsafePathError(dir, above);
  }
}
