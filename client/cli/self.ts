// The daemon's own figures for `portmand status`: memory, requests, store.
import type { DaemonStatus } from '../protocol.ts';

/** Key/value rows to add to the status block; none for a daemon that does not report them. */
export function selfRows(s: DaemonStatus): Array<[string, string]> {
  const rows: Array<[string, string]> = [];
  if (s.process) {
    const fds = s.process.openFds !== undefined ? `, ${s.process.openFds} open files` : '';
    rows.push([
      'process',
      `${bytes(s.process.rssBytes)} resident, ${bytes(s.process.heapUsedBytes)} heap, ${s.process.cpuSec.toFixed(1)}s CPU${fds}`,
    ]);
  }
  if (s.requests) {
    const top = Object.entries(s.requests.byMethod)
      .filter(([, m]) => m.count > 0)
      .sort(([, a], [, b]) => b.count - a.count)
      .slice(0, 3)
      .map(([name, m]) => `${name} ${m.count} (p99 ${m.p99Ms === null ? '-' : `${m.p99Ms} ms`})`);
    rows.push(['requests', `${s.requests.total} in the last minute${top.length ? `: ${top.join(', ')}` : ''}`]);
  }
  if (s.store) rows.push(['store', `journal ${bytes(s.store.journalBytes)}, snapshot ${bytes(s.store.snapshotBytes)}`]);
  return rows;
}

/** 1536 -> "1.5 KiB". */
export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let x = n;
  let u = 0;
  while (x >= 1024 && u < units.length - 1) {
    x /= 1024;
    u++;
  }
  return u === 0 ? `${x} B` : `${x.toFixed(1)} ${units[u]}`;
}
