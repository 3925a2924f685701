// Each parser against text captured from one host at one moment
// (test/fixtures/scan-capture.md lists the sockets that were open).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Protocol } from '../../../client/protocol.ts';
import { finishObservations, observation } from '../../../daemon/core/listeners.ts';
import type { Observation } from '../../../daemon/core/observation.ts';
import { hexAddress, lowestOwners, parseProcNet, socketInode, withOwners } from '../../../daemon/host/scan/procnet-parse.ts';
import { lowestUser, parseSsListening } from '../../../daemon/host/scan/ss-parse.ts';
import { fromSystemInformation, type SiConnection } from '../../../daemon/host/scan/sysinfo-parse.ts';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/${name}`, import.meta.url), 'utf8');
const siFixture = (name: string) => JSON.parse(fixture(name)) as SiConnection[];

const rec = (protocol: Protocol, port: number, address: string, pid?: number, process?: string): Observation =>
  observation({ protocol, address, port, family: address.includes(':') ? 6 : 4 }, { pid, process });
const zoo = (protocol: Protocol, port: number, address: string) => rec(protocol, port, address, 4668, 'node');

// What was really listening when the fixtures were captured.
const TRUTH = finishObservations([
  rec('tcp', 2024, '0.0.0.0'),
  zoo('tcp', 38001, '::'),
  zoo('tcp', 38002, '127.0.0.1'),
  zoo('tcp', 38003, '::1'),
  zoo('tcp', 38004, '::ffff:127.0.0.1'),
  zoo('tcp', 38005, '0.0.0.0'),
  zoo('tcp', 38005, '::'),
  zoo('tcp', 38006, 'fd00::2'),
  zoo('tcp', 38007, 'fe80::fc:ff:fe00:1'),
  zoo('tcp', 38008, '192.0.2.2'),
  rec('tcp', 38201, '127.0.0.1', 4669, 'my svc'),
  rec('tcp', 38301, '127.0.0.1', 4670, 'python3'),
  rec('tcp', 38401, '0.0.0.0', 4679, 'node'),
  zoo('udp', 38101, '0.0.0.0'),
  zoo('udp', 38102, '::'),
  zoo('udp', 38103, '127.0.0.1'),
  zoo('udp', 38104, '::1'),
]);

/** TRUTH as user nobody sees it: only its own socket (38401) keeps a pid. */
const TRUTH_NONROOT = TRUTH.map(({ pid, process, ...base }) => (pid === 4679 ? observation(base, { pid, process }) : base));

/** Replaces the records at `port` in `list` with `replacement`: one known gap of a source. */
function except(list: Observation[], port: number, ...replacement: Observation[]): Observation[] {
  return finishObservations([...list.filter((o) => o.port !== port), ...replacement]);
}
const tcpOnly = (list: Observation[]) => list.filter((o) => o.protocol === 'tcp');

describe('/proc/net', () => {
  const tables = [
    parseProcNet(fixture('proc-net-tcp.txt'), 'tcp', 4),
    parseProcNet(fixture('proc-net-tcp6.txt'), 'tcp', 6),
    parseProcNet(fixture('proc-net-udp.txt'), 'udp', 4),
    parseProcNet(fixture('proc-net-udp6.txt'), 'udp', 6),
  ].flat();
  const procs = JSON.parse(fixture('proc-fds.json')) as { pid: number; comm: string; fdLinks: string[] }[];

  it('yields every listener with its owner, the lowest pid for a shared socket, comm as the name', () => {
    const owners = lowestOwners(procs, new Set(tables.map((s) => s.inode)));
    const names = new Map(procs.map((p) => [p.pid, p.comm.trim()]));
    expect(finishObservations(withOwners(tables, owners, names))).toEqual(TRUTH);
  });

  it('leaves the pid out for sockets whose process could not be read', () => {
    const onlyNobody = procs.filter((p) => p.pid === 4679);
    const owners = lowestOwners(onlyNobody, new Set(tables.map((s) => s.inode)));
    const names = new Map([[4679, 'node']]);
    expect(finishObservations(withOwners(tables, owners, names))).toEqual(TRUTH_NONROOT);
  });

  it.each([
    ['0100007F', 4, true, '127.0.0.1'],
    ['7F000001', 4, false, '127.0.0.1'], // big-endian host
    ['020200C0', 4, true, '192.0.2.2'],
    ['0000000000000000FFFF00000100007F', 6, true, '::ffff:127.0.0.1'],
    ['000080FE00000000FF00FC00010000FE', 6, true, 'fe80::fc:ff:fe00:1'],
    ['00000000000000000000000001000000', 6, true, '::1'],
    ['00000000000000000000000000000001', 6, false, '::1'],
    ['0100007', 4, true, null],
  ] as const)('hex %s (IPv%s, little-endian %s) -> %s', (hex, family, le, address) => {
    expect(hexAddress(hex, family, le)).toBe(address);
  });

  it.each([
    ['socket:[7537]', 7537],
    ['pipe:[9985]', null],
    ['/dev/null', null],
    ['anon_inode:[eventpoll]', null],
  ])('fd link %s -> inode %s', (link, inode) => {
    expect(socketInode(link)).toBe(inode);
  });
});

describe('ss -H -ltunp', () => {
  it('as root: every listener, lowest pid of a shared socket, names with spaces intact', () => {
    expect(finishObservations(parseSsListening(fixture('ss-H-ltunp.txt')))).toEqual(TRUTH);
  });

  it('as another user: no pid where ss shows no process', () => {
    expect(finishObservations(parseSsListening(fixture('ss-H-ltunp.nonroot.txt')))).toEqual(TRUTH_NONROOT);
  });

  it('keeps only LISTEN and unconnected UDP lines (a header, if any, is skipped)', () => {
    const ports = finishObservations(parseSsListening(fixture('ss-tunap.txt'))).map((o) => o.port);
    expect(ports).not.toContain(38105); // connected UDP
    expect(ports).not.toContain(54814); // the client end of an established TCP connection
    expect(finishObservations(parseSsListening(fixture('ss-tunap.txt')))).toEqual(TRUTH);
  });

  it('keeps a listener whose process name holds a carriage return or a line separator (comm is any 15 bytes)', () => {
    // A process can name itself with these (/proc/self/comm); the listener must not vanish from the scan.
    const text = [
      'tcp   LISTEN 0      511        127.0.0.1:33331      0.0.0.0:*    users:(("\x1b[41mEVIL\x07\r",pid=15804,fd=19))',
      'tcp   LISTEN 0      511        127.0.0.1:33332      0.0.0.0:*    users:(("a\u2028b\u2029c",pid=15805,fd=19))',
    ].join('\n');
    expect(parseSsListening(text).map((o) => [o.port, o.pid, o.process])).toEqual([
      [33331, 15804, '\x1b[41mEVIL\x07\r'],
      [33332, 15805, 'a\u2028b\u2029c'],
    ]);
  });

  it('keeps the pid of a process whose name holds a newline, which splits its line in ss', () => {
    // As ss printed it for a process named "ev\nil\nx" (prctl PR_SET_NAME).
    const text = [
      'tcp   LISTEN 0      128        127.0.0.1:58059      0.0.0.0:*    users:(("ev',
      'il',
      'x",pid=5009,fd=3))',
      'tcp   LISTEN 0      511        127.0.0.1:33332      0.0.0.0:*    users:(("node",pid=15805,fd=19))',
    ].join('\n');
    expect(parseSsListening(text).map((o) => [o.port, o.pid, o.process])).toEqual([
      [58059, 5009, 'ev\nil\nx'],
      [33332, 15805, 'node'],
    ]);
  });

  it('picks the lowest pid among users', () => {
    expect(lowestUser('users:(("python3",pid=4744,fd=3),("python3",pid=4670,fd=3))')).toEqual({ pid: 4670, process: 'python3' });
    expect(lowestUser('')).toEqual({});
  });
});

describe('systeminformation networkConnections()', () => {
  // Both of its Linux paths keep only lines with a TCP state name, so bound
  // UDP sockets never appear; the other gaps are listed per path.
  it('netstat path: TCP listeners; netstat truncates a long address and cuts a name at its space', () => {
    const expected = except(
      except(tcpOnly(TRUTH), 38007, zoo('tcp', 38007, 'fe80::fc:ff:fe00:')),
      38201,
      rec('tcp', 38201, '127.0.0.1', 4669, 'my'),
    );
    expect(finishObservations(fromSystemInformation(siFixture('si-netstat.json')))).toEqual(expected);
  });

  it('ss path: TCP listeners; a name with a space loses its pid, a shared socket names its first user', () => {
    const expected = except(
      except(tcpOnly(TRUTH), 38201, rec('tcp', 38201, '127.0.0.1')),
      38301,
      rec('tcp', 38301, '127.0.0.1', 4744, 'python3'),
    );
    expect(finishObservations(fromSystemInformation(siFixture('si-ss.json')))).toEqual(expected);
  });

  it.each(['si-netstat.nonroot.json', 'si-ss.nonroot.json'])('%s: pid null becomes no pid', (name) => {
    const expected = except(
      tcpOnly(TRUTH_NONROOT),
      38007,
      rec('tcp', 38007, name.startsWith('si-netstat') ? 'fe80::fc:ff:fe00:' : 'fe80::fc:ff:fe00:1'),
    );
    expect(finishObservations(fromSystemInformation(siFixture(name)))).toEqual(expected);
  });

  // Shaped like systeminformation's macOS branch (netstat -natvln): not captured here.
  it.each([
    [
      {
        protocol: 'tcp46',
        localAddress: '*',
        localPort: '5000',
        peerAddress: '*',
        peerPort: '*',
        state: 'LISTEN',
        pid: 612,
        process: 'ControlCenter',
      },
      rec('tcp', 5000, '::', 612, 'ControlCenter'),
    ],
    [
      { protocol: 'tcp4', localAddress: '*', localPort: '7000', peerAddress: '*', peerPort: '*', state: 'LISTEN', pid: 612, process: 'x' },
      rec('tcp', 7000, '0.0.0.0', 612, 'x'),
    ],
    [
      {
        protocol: 'tcp6',
        localAddress: 'fe80::1%lo0',
        localPort: '631',
        peerAddress: '*',
        peerPort: '*',
        state: 'LISTEN',
        pid: 1,
        process: 'cupsd',
      },
      rec('tcp', 631, 'fe80::1', 1, 'cupsd'),
    ],
    [
      {
        protocol: 'udp4',
        localAddress: '*',
        localPort: '5353',
        peerAddress: '*',
        peerPort: '*',
        state: 'UNKNOWN',
        pid: Number.NaN,
        process: '',
      },
      rec('udp', 5353, '0.0.0.0'),
    ],
  ])('macOS-style %j', (conn, expected) => {
    expect(fromSystemInformation([conn])).toEqual([expected]);
  });

  it('drops non-listening TCP, connected UDP and unusable ports', () => {
    const base = { protocol: 'tcp', localAddress: '127.0.0.1', peerAddress: '127.0.0.1', pid: 1, process: 'p' };
    expect(
      fromSystemInformation([
        { ...base, localPort: '80', peerPort: '5000', state: 'ESTABLISHED' },
        { ...base, localPort: '80', peerPort: '*', state: 'TIME_WAIT' },
        { ...base, protocol: 'udp', localPort: '53', peerPort: '5000', state: 'ESTABLISHED' },
        { ...base, localPort: '', peerPort: '*', state: 'LISTEN' },
        { ...base, localPort: '*', peerPort: '*', state: 'LISTEN' },
        { ...base, protocol: 'unix', localPort: '80', peerPort: '*', state: 'LISTEN' },
      ]),
    ).toEqual([]);
  });
});
