import { describe, expect, it } from 'vitest';
import { finishObservations, formatIPv6, normaliseAddress, observation, parseIPv6 } from '../../daemon/core/listeners.ts';
import type { Observation } from '../../daemon/core/observation.ts';

describe('normaliseAddress', () => {
  it.each([
    // [as printed, family the tool stated, address, family]
    ['0.0.0.0', undefined, '0.0.0.0', 4],
    ['127.0.0.1', undefined, '127.0.0.1', 4],
    ['*', undefined, '::', 6], // ss: dual-stack IPv6 wildcard
    ['*', 4, '0.0.0.0', 4], // macOS tcp4 "*.80"
    ['*', 6, '::', 6],
    ['[::]', undefined, '::', 6],
    ['[::1]', undefined, '::1', 6],
    ['::', 6, '::', 6], // netstat tcp6
    ['[::ffff:127.0.0.1]', undefined, '::ffff:127.0.0.1', 6],
    ['127.0.0.1', 6, '::ffff:127.0.0.1', 6], // netstat prints a v4-mapped bind this way under tcp6
    ['[fe80::fc:ff:fe00:1]%eth0', undefined, 'fe80::fc:ff:fe00:1', 6], // ss
    ['fe80::1%lo0', 6, 'fe80::1', 6], // macOS
    ['127.0.0.53%lo', undefined, '127.0.0.53', 4], // ss, socket bound to a device
    ['FD00:0:0:0:0:0:0:2', undefined, 'fd00::2', 6],
    ['2001:db8:0:0:1:0:0:1', undefined, '2001:db8::1:0:0:1', 6], // first of equal zero runs
    ['2001:0db8:0000:0001:0001:0001:0001:0001', undefined, '2001:db8:0:1:1:1:1:1', 6], // one zero word is not "::"
    ['fe80::fc:ff:fe00:', 6, 'fe80::fc:ff:fe00:', 6], // netstat truncation: kept as printed
  ] as const)('%s (family %s) -> %s', (raw, family, address, fam) => {
    expect(normaliseAddress(raw, family)).toEqual({ address, family: fam });
  });
});

describe('IPv6 text', () => {
  it.each([
    ['::', [0, 0, 0, 0, 0, 0, 0, 0]],
    ['::1', [0, 0, 0, 0, 0, 0, 0, 1]],
    ['::ffff:127.0.0.1', [0, 0, 0, 0, 0, 0xffff, 0x7f00, 1]],
    ['::1.2.3.4', [0, 0, 0, 0, 0, 0, 0x102, 0x304]], // v4-compatible, as inet_ntop prints it
    ['::2', [0, 0, 0, 0, 0, 0, 0, 2]],
    ['1:2:3:4:5:6:7:8', [1, 2, 3, 4, 5, 6, 7, 8]],
    ['1::', [1, 0, 0, 0, 0, 0, 0, 0]],
  ])('%s round-trips', (text, words) => {
    expect(parseIPv6(text)).toEqual(words);
    expect(formatIPv6(words)).toBe(text);
  });

  it.each(['1:2:3:4:5:6:7:8:9', '1::2::3', 'fe80::fc:ff:fe00:', 'g::1', '1:2:3:4:5:6:7'])('%s is not an address', (text) => {
    expect(parseIPv6(text)).toBeNull();
  });
});

describe('finishObservations', () => {
  const tcp = (port: number, address: string, family: 4 | 6, pid?: number): Observation =>
    observation({ protocol: 'tcp', address, port, family }, { pid, process: pid ? 'node' : undefined });

  it('keeps one of each identical record and sorts by protocol, port, family, address', () => {
    const udp = observation({ protocol: 'udp', address: '0.0.0.0', port: 53, family: 4 });
    const out = finishObservations([tcp(80, '::', 6, 9), udp, tcp(80, '0.0.0.0', 4, 9), tcp(22, '0.0.0.0', 4), tcp(80, '::', 6, 9)]);
    expect(out).toEqual([tcp(22, '0.0.0.0', 4), tcp(80, '0.0.0.0', 4, 9), tcp(80, '::', 6, 9), udp]);
  });

  it('keeps records that differ only in owner (two processes with SO_REUSEPORT)', () => {
    expect(finishObservations([tcp(80, '::', 6, 9), tcp(80, '::', 6, 10)])).toHaveLength(2);
  });
});

describe('observation', () => {
  it.each([
    [null, '', {}],
    [Number.NaN, 'x', { process: 'x' }], // macOS branch of systeminformation: parseInt of nothing
    [0, undefined, {}],
    [42, 'node', { pid: 42, process: 'node' }],
  ])('pid %s, process %j -> %j', (pid, process, owner) => {
    const base = { protocol: 'tcp' as const, address: '::', port: 1, family: 6 as const };
    expect(observation(base, { pid, process })).toStrictEqual({ ...base, ...owner });
  });
});
