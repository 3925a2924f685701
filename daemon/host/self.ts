// What the daemon process and its state files look like from the OS, for
// daemon.status: memory, CPU time, open descriptors, file sizes.
import { readdirSync, statSync } from 'node:fs';
import os from 'node:os';

export interface ProcessFigures {
  rssBytes: number;
  heapUsedBytes: number;
  cpuSec: number;
  openFds?: number;
}

export function processFigures(): ProcessFigures {
  const mem = process.memoryUsage();
  const cpu = process.cpuUsage();
  const fds = openFds();
  return {
    rssBytes: mem.rss,
    heapUsedBytes: mem.heapUsed,
    cpuSec: Math.round((cpu.user + cpu.system) / 1000) / 1000,
    ...(fds !== undefined && { openFds: fds }),
  };
}

// Linux only (and some BSDs); elsewhere the field is left out, as the contract allows.
function openFds(): number | undefined {
  for (const dir of ['/proc/self/fd', '/dev/fd']) {
    try {
      return readdirSync(dir).length;
    } catch {
      // try the next
    }
  }
  return undefined;
}

export interface StoreFigures {
  journalBytes: number;
  snapshotBytes: number;
  lastCompactionAt: string | null;
}

/** The snapshot is written only by a compaction, so its mtime says when the last one ran. */
export function storeFigures(files: { journalFile: string; stateFile: string }): StoreFigures {
  const journal = statOrNull(files.journalFile);
  const snapshot = statOrNull(files.stateFile);
  return {
    journalBytes: journal?.size ?? 0,
    snapshotBytes: snapshot?.size ?? 0,
    lastCompactionAt: snapshot ? snapshot.mtime.toISOString() : null,
  };
}

function statOrNull(path: string): { size: number; mtime: Date } | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

/** The daemon's user name; the uid when the system has no name for it (a container without passwd). */
export function daemonUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return String(process.getuid?.() ?? 'unknown');
  }
}
