// Small filesystem steps the store needs to be crash-safe and private: making
// a rename or a new file durable, keeping a damaged file for a human to
// inspect, and keeping the state dir and its files the owner's alone.
import { chmodSync, existsSync, mkdirSync, renameSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { checkTrustedDir } from '../host/trusted-dir.ts';

/** Every state file is the owner's alone: it names processes, ports and who asked for them. */
export const PRIVATE_FILE = 0o600;
export const PRIVATE_DIR = 0o700;

/**
 * Creates the state directory 0700. An existing one is left as it is (it may
 * be a directory the admin chose for other reasons too), unless it is one we
 * must not use: a symlink, another user's, or one others may write to (they
 * could replace the state files, or plant a symlink where a snapshot is
 * written). That throws UnsafePathError.
 */
export async function makePrivateDir(dir: string): Promise<void> {
  try {
    mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR });
  } catch (err) {
    if (!isCode(err, 'EEXIST')) throw err; // a dangling symlink or a file: named by the check below
  }
  await checkTrustedDir(dir, { role: 'state dir', setting: 'PORTMAND_STATE_DIR', rootMayOwn: false, stickyShared: false });
}

/** Tightens a state file written by an older portmand (0644) to 0600; a missing file is fine. */
export function makePrivateFile(path: string): void {
  try {
    chmodSync(path, PRIVATE_FILE);
  } catch (err) {
    if (!isCode(err, 'ENOENT')) throw err;
  }
}

/** Makes created, renamed and removed names in `dir` durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch (err) {
    // Some platforms refuse fsync on a directory; there is nothing more to do there.
    if (!isCode(err, 'EINVAL') && !isCode(err, 'EISDIR') && !isCode(err, 'EPERM')) throw err;
  } finally {
    await handle.close();
  }
}

/**
 * Renames a damaged file to `<path>.corrupt-<timestamp>` so it is kept, never
 * overwritten, and returns the new path.
 */
export function moveAside(path: string, now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[:.]/g, '-');
  let aside = `${path}.corrupt-${stamp}`;
  for (let n = 1; existsSync(aside); n++) aside = `${path}.corrupt-${stamp}-${n}`;
  renameSync(path, aside);
  makePrivateFile(aside); // a file from an older portmand may be 0644, and it stays around for a human
  return aside;
}

export function isCode(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}
