// Small filesystem steps the store needs to be crash-safe and private: making
// a rename or a new file durable, keeping a damaged file for a human to
// inspect, and keeping the state dir and its files the owner's alone.
import { chmodSync, existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';

/** Every state file is the owner's alone: it names processes, ports and who asked for them. */
export const PRIVATE_FILE = 0o600;
export const PRIVATE_DIR = 0o700;

/**
 * Creates the state directory 0700. An existing one is left as it is (it may
 * be a directory the admin chose for other reasons too), but one that others
 * may write to is reported: they could replace the files in it.
 */
export function makePrivateDir(dir: string): string | null {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR });
  const mode = statSync(dir).mode & 0o7777;
  if ((mode & 0o022) === 0) return null;
  return `state dir ${dir} is writable by ${mode & 0o002 ? 'all users' : 'its group'} (mode ${mode.toString(8).padStart(4, '0')}): others could replace the state files; make it 0700 (chmod 700)`;
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
  return aside;
}

export function isCode(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}
