// Facts about the host the allocator must respect.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { PortSpan } from './core/ranges.ts';

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

/** True when a process with this pid exists (signal 0 checks without sending). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
