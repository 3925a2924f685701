// Small filesystem steps the store needs to be crash-safe: making a rename or
// a new file durable, and keeping a damaged file for a human to inspect.
import { existsSync, renameSync } from 'node:fs';
import { open } from 'node:fs/promises';

/** Flushes a file's data so that a later rename of it cannot expose an empty file after a crash. */
export async function fsyncFile(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.datasync();
  } finally {
    await handle.close();
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
