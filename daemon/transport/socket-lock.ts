// The socket path's own lock. Two daemons with different state dirs may be
// pointed at one socket path; without a lock both can find a stale socket,
// both unlink it, and the later one unlinks the earlier one's fresh socket,
// leaving a live daemon nobody can reach. The lock is the state lock's
// mechanism (store/lock.ts) on a directory of its own beside the socket.
import { mkdir } from 'node:fs/promises';
import { checkTrustedDir } from '../host/trusted-dir.ts';
import { isCode } from '../store/files.ts';
import { acquireLock, type DirLock } from '../store/lock.ts';

/**
 * Takes the lock of `socketPath`, or throws StateDirInUseError naming the
 * live holder's pid. The directory stays after release: removing it would
 * race the next starter, who may be creating its draft in it.
 */
export async function lockSocketPath(socketPath: string): Promise<DirLock> {
  const dir = `${socketPath}.lock`;
  await mkdir(dir, { recursive: true, mode: 0o700 }).catch(ignoreExisting);
  // Planted by another user (or a symlink to elsewhere), it would have us write and unlink files where they chose.
  await checkTrustedDir(dir, { role: 'socket lock directory', setting: 'PORTMAND_SOCKET', rootMayOwn: false, stickyShared: false });
  return acquireLock(dir);
}

/** mkdir -p meets a file or a dangling symlink with EEXIST: the check that follows names it. */
export function ignoreExisting(err: unknown): void {
  if (!isCode(err, 'EEXIST')) throw err;
}
