import { describe, expect, it } from 'vitest';
import { descendsFrom, procStatParent } from '../../daemon/host/ancestry.ts';

describe('procStatParent', () => {
  it('reads field 4, whatever the command name holds', () => {
    expect(procStatParent('123 (a) b (c) S 45 123 123 0 -1')).toBe(45);
    expect(procStatParent('1 (init) S 0 1 1')).toBeNull();
    expect(procStatParent('garbage')).toBeNull();
  });
});

describe('descendsFrom', () => {
  it('follows the parent chain on Linux', (ctx) => {
    if (process.platform !== 'linux') ctx.skip();
    expect(descendsFrom(process.pid, process.pid)).toBe(true);
    expect(descendsFrom(process.pid, process.ppid)).toBe(true);
    expect(descendsFrom(process.ppid, process.pid)).toBe(false);
  });
});
