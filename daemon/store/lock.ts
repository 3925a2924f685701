// An exclusive lock on a state directory: a `portmand.lock` file holding the
// owner's pid. Files are created complete (written aside, then hard-linked into
// place, which fails if the name exists), so a reader never sees a half-written
// pid. A lock whose pid is dead is taken over under a short-lived guard file,
// so two starters racing for one stale lock cannot both win.
import { linkSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { pidAlive } from '../host/process.ts';
import { isCode } from './files.ts';

/** Another live process (or this one) already holds the state directory. */
export class StateDirInUseError extends Error {
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(`state dir ${dir} is in use by portmand pid ${pid}`);
    this.name = 'StateDirInUseError';
  }
}

export interface DirLock {
  readonly path: string;
  release(): void;
}

export const LOCK_NAME = 'portmand.lock';
const ATTEMPTS = 200;
const RETRY_MS = 5;

// Locks this process holds: a pid check cannot tell "me, again" from "me, in a previous life".
const heldHere = new Set<string>();

export async function acquireLock(dir: string): Promise<DirLock> {
  const lockPath = resolve(dir, LOCK_NAME);
  if (heldHere.has(lockPath)) throw new StateDirInUseError(dir, process.pid);
  const mine = `${process.pid}\n`;
  const draft = join(dir, `.${LOCK_NAME}.${process.pid}`);
  // Created anew ('wx'), so a leftover draft's mode never reaches the lock.
  unlinkQuietly(draft);
  writeFileSync(draft, mine, { mode: 0o600, flag: 'wx' });
  try {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      if (tryLink(draft, lockPath)) return held(lockPath, mine);
      const seen = readText(lockPath);
      if (seen === null) continue; // released meanwhile
      const pid = parsePid(seen);
      if (pid !== null && pid !== process.pid && pidAlive(pid)) throw new StateDirInUseError(dir, pid);
      if (takeOver(lockPath, draft, seen)) return held(lockPath, mine);
      await delay(RETRY_MS);
    }
    throw new Error(`could not take the lock ${lockPath}: it keeps changing hands`);
  } finally {
    unlinkQuietly(draft);
  }
}

/** Replaces a stale lock, if it still holds `stale` once we own the guard. */
function takeOver(lockPath: string, draft: string, stale: string): boolean {
  const guard = `${lockPath}.takeover`;
  if (!tryLink(draft, guard)) {
    const guardPid = parsePid(readText(guard) ?? '');
    // A guard left by a crash (it is held for microseconds) would block every start.
    if (guardPid === null || !pidAlive(guardPid)) unlinkQuietly(guard);
    return false;
  }
  try {
    if (readText(lockPath) !== stale) return false;
    unlinkSync(lockPath);
    return tryLink(draft, lockPath);
  } finally {
    unlinkQuietly(guard);
  }
}

function held(lockPath: string, mine: string): DirLock {
  heldHere.add(lockPath);
  return {
    path: lockPath,
    release() {
      if (!heldHere.delete(lockPath)) return;
      if (readText(lockPath) === mine) unlinkQuietly(lockPath);
    },
  };
}

function tryLink(from: string, to: string): boolean {
  try {
    linkSync(from, to);
    return true;
  } catch (err) {
    if (isCode(err, 'EEXIST')) return false;
    throw err;
  }
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if (isCode(err, 'ENOENT')) return null;
    throw err;
  }
}

function parsePid(text: string): number | null {
  const pid = Number(text.trim());
  return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if (!isCode(err, 'ENOENT')) throw err;
  }
}
