// Whether one process descends from another (Linux: /proc/<pid>/stat's ppid).
// A server that a lease's owner started on the port it was given (get-port's
// usual pattern) is that owner's doing, not an intruder: the automatic
// resolution must not move the lease away from it.
import { readFileSync } from 'node:fs';

/** How far up the tree to look: deeper chains (npm -> sh -> node -> ...) are rare past this. */
const MAX_DEPTH = 16;

/** Field 4 of a /proc/<pid>/stat line, counted from the last ')' since the command name may hold any character. */
export function procStatParent(stat: string): number | null {
  const close = stat.lastIndexOf(')');
  if (close === -1) return null;
  const ppid = Number(stat.slice(close + 2).split(' ')[1]);
  return Number.isInteger(ppid) && ppid > 0 ? ppid : null;
}

function parentOf(pid: number): number | null {
  try {
    return procStatParent(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null; // gone, or not Linux: nothing is known to descend
  }
}

/** True when `pid` is `ancestor` or one of its descendants. */
export function descendsFrom(pid: number, ancestor: number): boolean {
  let p: number | null = pid;
  for (let i = 0; p !== null && p > 1 && i < MAX_DEPTH; i++) {
    if (p === ancestor) return true;
    p = parentOf(p);
  }
  return false;
}
