// Pure readers of the kernel's text, for finding who is at the other end of
// an accepted Unix connection (host/peer-cred.ts): `ss -xHp` lines and
// /proc/<pid>/status. Socket paths and process names in `ss` output are
// chosen by other users, so nothing read here is believed on its own: the
// line of our own socket must be the only one of its shape, and every
// (pid, fd) pair is a candidate that the caller verifies against /proc.

/**
 * "u_str ESTAB 0 0 <path> <inode> <peer-address> <peer-inode> [users:(...)]".
 * The path is the one the socket was bound at, which is not the socket's
 * name once renamed into place (transport/server.ts), so any path is taken.
 */
function ourLine(inode: number): RegExp {
  return new RegExp(`^u_str\\s+ESTAB\\s+\\d+\\s+\\d+\\s+\\S.*?\\s+${inode}\\s+\\S+\\s+(\\d+)(?:\\s+users:\\(.*\\))?\\s*$`);
}

/**
 * The inode of the peer of our accepted socket `inode`, or null when there is
 * no such line or more than one (a planted path with a newline could forge
 * one; the real one is always there, so a forgery shows as two).
 */
export function peerInode(ssText: string, inode: number): number | null {
  const re = ourLine(inode);
  const found = new Set<number>();
  let lines = 0;
  for (const line of ssText.split('\n')) {
    const m = re.exec(line);
    if (!m) continue;
    lines++;
    found.add(Number(m[1]));
  }
  if (lines !== 1) return null;
  const [peer] = found;
  return peer !== undefined && peer > 0 ? peer : null;
}

/** Every (pid, fd) that `ss -p` names on a line mentioning `inode`: candidates only, to be verified. */
export function holderCandidates(ssText: string, inode: number): Array<{ pid: number; fd: number }> {
  const token = new RegExp(`\\s${inode}\\s`);
  const out: Array<{ pid: number; fd: number }> = [];
  for (const line of ssText.split('\n')) {
    if (!token.test(`${line} `)) continue;
    for (const m of line.matchAll(/pid=(\d+),fd=(\d+)/g)) out.push({ pid: Number(m[1]), fd: Number(m[2]) });
  }
  return out;
}

/** The inode in a /proc/<pid>/fd link ("socket:[12345]"), or null for anything else. */
export function socketLinkInode(link: string): number | null {
  const m = /^socket:\[(\d+)\]$/.exec(link);
  return m ? Number(m[1]) : null;
}

/** The effective uid, effective gid and supplementary groups from /proc/<pid>/status. */
export function parseProcStatus(text: string): { uid: number; gids: number[] } | null {
  const field = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(text)?.[1]?.trim().split(/\s+/).filter(Boolean).map(Number);
  const uids = field('Uid');
  const gid = field('Gid');
  const groups = field('Groups') ?? [];
  const euid = uids?.[1];
  const egid = gid?.[1];
  if (euid === undefined || egid === undefined || !Number.isInteger(euid) || !Number.isInteger(egid)) return null;
  return { uid: euid, gids: [...new Set([egid, ...groups.filter(Number.isInteger)])] };
}

/** Capability bits (linux/capability.h) that reading another user's /proc/<pid>/fd takes. */
const CAP_DAC_OVERRIDE = 1n;
const CAP_DAC_READ_SEARCH = 2n;
const CAP_SYS_PTRACE = 19n;

/**
 * Whether a process with this /proc/self/status and /proc/self/uid_map can
 * read every process's descriptors, so that finding nobody holding a socket
 * means nobody does. Uid 0 is not enough: a root service with its
 * capabilities bounded (systemd's CapabilityBoundingSet=) or root in a user
 * namespace is refused other users' /proc/<pid>/fd, and sees none of their sockets.
 */
export function seesEveryProcess(status: string, uidMap: string): boolean {
  const hex = /^CapEff:\s*([0-9a-f]+)\s*$/im.exec(status)?.[1];
  if (hex === undefined) return false;
  const caps = BigInt(`0x${hex}`);
  const has = (bit: bigint) => (caps & (1n << bit)) !== 0n;
  if (!has(CAP_SYS_PTRACE) || !(has(CAP_DAC_READ_SEARCH) || has(CAP_DAC_OVERRIDE))) return false;
  // The initial user namespace maps every uid to itself; any other's capabilities stop at its edge.
  const map = uidMap.trim().split(/\s+/);
  return map.length === 3 && map[0] === '0' && map[1] === '0' && map[2] === '4294967295';
}
