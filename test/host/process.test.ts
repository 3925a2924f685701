// Reading a process's start mark from the OS: the parsers on captured text,
// then the real thing on this process and a child.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { processStart, processStarts, processUids, procStatStart, psStarts, statusUids } from '../../daemon/host/process.ts';

// A /proc/<pid>/stat line whose command name holds spaces and parentheses; starttime (field 22) is 137037.
const stat = '28369 (a) b (c) S 27746 27746 5749 0 -1 4194304 124 0 0 0 0 0 0 0 20 0 1 0 137037 3133440 363 18446744073709551615';

describe('start mark parsers', () => {
  it('takes field 22 of /proc/<pid>/stat, counting from the last parenthesis', () => {
    expect(procStatStart(stat)).toBe('linux:137037');
    expect(procStatStart('28369 (cat) R 1 2')).toBeNull();
    expect(procStatStart('')).toBeNull();
  });

  it('reads ps -o pid=,lstart= lines, whatever the padding', () => {
    const text = '  123 Mon Jan  6 09:00:01 2025\n45678 Tue Feb 11 10:20:30 2025\n\n';
    expect(psStarts(text)).toEqual(
      new Map([
        [123, 'ps:Mon Jan 6 09:00:01 2025'],
        [45678, 'ps:Tue Feb 11 10:20:30 2025'],
      ]),
    );
  });
});

describe.skipIf(!['linux', 'darwin'].includes(process.platform))('processStart on this host', () => {
  it('gives the same mark for one process, another for another, and none for a pid that is gone', async () => {
    const child = spawn('sleep', ['30']);
    try {
      const mine = await processStart(process.pid);
      expect(mine).not.toBeNull();
      expect(await processStart(process.pid)).toBe(mine);
      const theirs = await processStart(child.pid!);
      expect(theirs).not.toBeNull();
      expect(theirs).not.toBe(mine);
      expect(await processStarts([process.pid, child.pid!, 999_999_999])).toEqual(
        new Map([
          [process.pid, mine],
          [child.pid!, theirs],
        ]),
      );
    } finally {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
    expect(await processStart(child.pid!)).toBeNull();
  });
});

describe('processUids', () => {
  it('reads the real and saved uids from a status text, and this process’s own', async () => {
    expect(statusUids('Name:\tsu\nUid:\t1000\t0\t0\t0\nGid:\t1000\t1000\t1000\t1000\n')).toEqual([1000, 0]);
    expect(statusUids('Name:\tx\n')).toBeNull();
    if (process.platform === 'linux') expect(await processUids(process.pid)).toEqual([process.getuid!(), process.getuid!()]);
    expect(await processUids(2 ** 31 - 2)).toBeNull();
  });
});
