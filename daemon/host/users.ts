// User names and group lists for uids, as the C library would give them:
// getent asks NSS (LDAP, sssd), /etc/passwd is the fallback where getent is
// missing (macOS). Names change rarely, so answers are kept for the daemon's life.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);
const names = new Map<number, Promise<string | undefined>>();

/** The name of `uid` in passwd(5) lines ("name:x:uid:gid:..."); pure, for tests. */
export function nameFromPasswdLines(text: string, uid: number): string | undefined {
  for (const line of text.split('\n')) {
    const [name, , id] = line.split(':');
    if (name && id !== undefined && /^\d+$/.test(id) && Number(id) === uid) return name;
  }
  return undefined;
}

/** The user name of `uid`, or undefined when the system has none. */
export function userName(uid: number): Promise<string | undefined> {
  let name = names.get(uid);
  if (!name) {
    name = lookupName(uid);
    names.set(uid, name);
  }
  return name;
}

async function lookupName(uid: number): Promise<string | undefined> {
  try {
    return nameFromPasswdLines((await run('getent', ['passwd', String(uid)])).stdout, uid);
  } catch (err) {
    if ((err as { code?: unknown }).code !== 'ENOENT') return undefined;
    return nameFromPasswdLines(await readFile('/etc/passwd', 'utf8').catch(() => ''), uid);
  }
}

/** The groups `uid` belongs to (`id -G`), for a caller known without a process to read them from. */
export async function groupsOf(uid: number): Promise<number[]> {
  const who = (await userName(uid)) ?? String(uid);
  try {
    return (await run('id', ['-G', who])).stdout
      .trim()
      .split(/\s+/)
      .filter((g) => /^\d+$/.test(g))
      .map(Number);
  } catch {
    return [];
  }
}

/** The primary gid of `uid` in passwd(5) lines; pure, for tests. */
export function gidFromPasswdLines(text: string, uid: number): number | undefined {
  for (const line of text.split('\n')) {
    const [, , id, gid] = line.split(':');
    if (id !== undefined && /^\d+$/.test(id) && Number(id) === uid && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  return undefined;
}

/** The gid a restart command of `uid` runs with: its primary group, else nogroup (never root's). */
export function primaryGid(uid: number): number {
  let text = '';
  try {
    text = readFileSync('/etc/passwd', 'utf8');
  } catch {
    // No passwd file (or not readable): fall through to nogroup.
  }
  return gidFromPasswdLines(text, uid) ?? 65534;
}

/**
 * Whether `gid` is `user`'s private group (the user-private-group scheme of
 * Debian, Ubuntu and Fedora): the user's primary group, with no other member
 * listed in group(5) and no other account in passwd(5) having it as its
 * primary group. Pure, for tests.
 */
export function isPrivateGroup(gid: number, user: { uid: number; name: string }, passwd: string, group: string): boolean {
  if (gidFromPasswdLines(passwd, user.uid) !== gid) return false;
  // A NIS compat line ("+", "+name") brings in accounts or groups the file does not show: any may share the gid.
  if (hasCompatInclude(passwd) || hasCompatInclude(group)) return false;
  for (const line of passwd.split('\n')) {
    const [, , id, primary] = line.split(':');
    if (id !== undefined && /^\d+$/.test(id) && Number(id) !== user.uid && primary !== undefined && Number(primary) === gid) return false;
  }
  for (const line of group.split('\n')) {
    const [, , id, members] = line.split(':');
    if (id === undefined || !/^\d+$/.test(id) || Number(id) !== gid) continue;
    const others = (members ?? '').split(',').filter((m) => m.trim() !== '' && m.trim() !== user.name);
    if (others.length > 0) return false;
  }
  return true;
}

function hasCompatInclude(text: string): boolean {
  return text.split('\n').some((line) => line.trimStart().startsWith('+'));
}

/**
 * The daemon user's private group, when its primary group is one: a directory
 * of ours writable by that group is writable by nobody else. Read from the
 * local files (an NSS-only group is not taken as private), null otherwise.
 */
export async function privateGroupOf(uid: number): Promise<number | null> {
  const [passwd, group] = await Promise.all([
    readFile('/etc/passwd', 'utf8').catch(() => ''),
    readFile('/etc/group', 'utf8').catch(() => ''),
  ]);
  const name = nameFromPasswdLines(passwd, uid);
  const gid = gidFromPasswdLines(passwd, uid);
  if (name === undefined || gid === undefined) return null;
  return isPrivateGroup(gid, { uid, name }, passwd, group) ? gid : null;
}
