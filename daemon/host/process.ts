// Facts about the host the allocator must respect.
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

// Linux only: field 3 of /proc/<pid>/stat, after the parenthesised command name.
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return false;
  }
}
