// Facts about the host: what the allocator must respect, and whether a
// process that owns a port or a lock is still the one that took it.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { PortSpan } from '../core/ranges.ts';

const run = promisify(execFile);

/** The OS's ephemeral port range, or null when it can't be read. */
export async function ephemeralRange(platform: NodeJS.Platform = process.platform): Promise<PortSpan | null> {
  try {
    if (platform === 'linux') {
      const [start, end] = (await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')).trim().split(/\s+/).map(Number);
      return valid(start, end);
    }
    if (platform === 'darwin' || platform === 'freebsd') {
      const { stdout } = await run('sysctl', ['-n', 'net.inet.ip.portrange.first', 'net.inet.ip.portrange.last']);
      const [start, end] = stdout.trim().split(/\s+/).map(Number);
      return valid(start, end);
    }
  } catch {
    // No range known: allocation then simply does not avoid one.
  }
  return null;
}

function valid(start: number | undefined, end: number | undefined): PortSpan | null {
  if (!Number.isInteger(start) || !Number.isInteger(end) || start! < 1 || end! > 65535 || start! > end!) return null;
  return { start: start!, end: end! };
}

/**
 * True when a process with this pid exists (signal 0 checks without sending).
 * EPERM means it belongs to another user: alive. A zombie (killed, not yet
 * reaped by its parent) is dead, or a daemon killed a moment ago would still
 * hold its state dir and its leases.
 */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  return !isZombie(pid);
}

/**
 * When the process now running as `pid` started, as an opaque mark: a pid
 * reused by a later process gives another mark. Null when the pid does not
 * run or the OS will not say. Linux reads /proc (cheap); macOS asks `ps`.
 */
export async function processStart(pid: number, platform: NodeJS.Platform = process.platform): Promise<string | null> {
  return (await processStarts([pid], platform)).get(pid) ?? null;
}

/** processStart for many pids at once (one `ps` on macOS); pids with no mark are left out. */
export async function processStarts(pids: readonly number[], platform: NodeJS.Platform = process.platform): Promise<Map<number, string>> {
  const marks = new Map<number, string>();
  if (pids.length === 0) return marks;
  if (platform === 'linux') {
    for (const pid of pids) {
      const mark = readStat(pid);
      const start = mark === null ? null : procStatStart(mark);
      if (start !== null) marks.set(pid, start);
    }
  } else if (platform === 'darwin' || platform === 'freebsd') {
    for (const [pid, start] of psStarts(await psOutput(pids))) marks.set(pid, start);
  }
  return marks;
}

/**
 * Field 22 of a /proc/<pid>/stat line (starttime, in clock ticks since boot).
 * Field 2, the command name, may hold spaces and parentheses: fields are
 * counted from the last ')', which is field 3's predecessor.
 */
export function procStatStart(stat: string): string | null {
  const close = stat.lastIndexOf(')');
  if (close === -1) return null;
  const ticks = stat.slice(close + 2).split(' ')[22 - 3];
  return ticks !== undefined && /^\d+$/.test(ticks) ? `linux:${ticks}` : null;
}

/** Lines of `ps -o pid=,lstart=`: "  123 Mon Jan  6 09:00:01 2025". */
export function psStarts(text: string): Map<number, string> {
  const marks = new Map<number, string>();
  for (const line of text.split('\n')) {
    const m = /^\s*(\d+)\s+(\S.*\S)\s*$/.exec(line);
    if (m) marks.set(Number(m[1]), `ps:${m[2]!.replace(/\s+/g, ' ')}`);
  }
  return marks;
}

async function psOutput(pids: readonly number[]): Promise<string> {
  // The C locale keeps lstart's format the same whatever the user's locale.
  const args = ['-o', 'pid=,lstart=', '-p', pids.join(',')];
  try {
    return (await run('ps', args, { env: { LC_ALL: 'C', PATH: '/bin:/usr/bin' } })).stdout;
  } catch (err) {
    // ps exits 1 when some pid has gone, and still lists the others.
    return typeof (err as { stdout?: unknown }).stdout === 'string' ? (err as { stdout: string }).stdout : '';
  }
}

function readStat(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
}

// Linux only: field 3 of /proc/<pid>/stat, after the parenthesised command name.
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return false;
  }
}

/**
 * The uids that own a process for kill(2): its real and saved uids (a sender
 * whose uid is one of them may signal it). Null when the pid does not run or
 * the OS will not say. Linux reads /proc/<pid>/status; macOS asks `ps`.
 */
export async function processUids(pid: number, platform: NodeJS.Platform = process.platform): Promise<number[] | null> {
  if (platform === 'linux') {
    try {
      return statusUids(await readFile(`/proc/${pid}/status`, 'utf8'));
    } catch {
      return null;
    }
  }
  if (platform === 'darwin' || platform === 'freebsd') {
    let out = '';
    try {
      out = (await run('ps', ['-o', 'ruid=,svuid=', '-p', String(pid)], { env: { LC_ALL: 'C', PATH: '/bin:/usr/bin' } })).stdout;
    } catch {
      return null;
    }
    const uids = out.trim().split(/\s+/).map(Number);
    return uids.length === 2 && uids.every((u) => Number.isInteger(u) && u >= 0) ? uids : null;
  }
  return null;
}

/** The real and saved uids from a /proc/<pid>/status text ("Uid:\treal\teffective\tsaved\tfs"). */
export function statusUids(status: string): number[] | null {
  const m = /^Uid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$/m.exec(status);
  return m ? [Number(m[1]), Number(m[3])] : null;
}
