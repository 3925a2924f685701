// Group names to ids, for the socket's group (config `socket.group`). Node
// has no getgrnam(); getent asks NSS (LDAP, sssd) like the C library would,
// and /etc/group is the fallback where getent is missing (macOS).
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The configured socket group does not exist on this host. */
export class UnknownGroupError extends Error {
  constructor(readonly group: string) {
    super(`socket.group "${group}" is not a group on this host (create it: groupadd --system ${group})`);
    this.name = 'UnknownGroupError';
  }
}

/** Finds `name` in group(5) lines ("name:x:gid:members"); pure, for tests. */
export function gidFromGroupLines(text: string, name: string): number | null {
  for (const line of text.split('\n')) {
    const [n, , gid] = line.split(':');
    if (n === name && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  return null;
}

export async function groupId(name: string): Promise<number> {
  let text: string;
  try {
    text = (await run('getent', ['group', name])).stdout;
  } catch (err) {
    // exit 2: no such group; ENOENT: no getent here
    if ((err as { code?: unknown }).code !== 'ENOENT') throw new UnknownGroupError(name);
    text = await readFile('/etc/group', 'utf8').catch(() => '');
  }
  const gid = gidFromGroupLines(text, name);
  if (gid === null) throw new UnknownGroupError(name);
  return gid;
}
