import { describe, expect, it } from 'vitest';
import { holderCandidates, parseProcStatus, peerInode, seesEveryProcess, socketLinkInode } from '../../daemon/host/peer-parse.ts';

// Captured from `ss -xHp` (pids changed), with the daemon's socket at /run/portmand/portmand.sock.
const SS = [
  'u_str ESTAB 0      0                        * 790760 * 790762 users:(("node",pid=4100,fd=22))',
  'u_str ESTAB 0      0      /run/portmand/portmand.sock 790762 * 790760 users:(("node",pid=1200,fd=21))',
  'u_str LISTEN 0      511    /run/portmand/portmand.sock 790700 * 0 users:(("node",pid=1200,fd=20))',
  'u_str ESTAB 0      0                        * 790767 * 790766',
].join('\n');
const SOCK = '/run/portmand/portmand.sock';

describe('peerInode', () => {
  it('finds the peer of our accepted socket by its inode', () => {
    expect(peerInode(SS, 790762)).toBe(790760);
  });
  it('is null for an inode that is not the local end of a connection', () => {
    expect(peerInode(SS, 790700)).toBeNull(); // listening, not a connection
    expect(peerInode(SS, 1)).toBeNull();
  });
  it('takes any bound path: the socket is renamed into place after binding, and ss shows the bound name', () => {
    expect(peerInode('u_str ESTAB 0 0 /run/portmand/.pm77-1 10 * 11 users:(("node",pid=7,fd=3))', 10)).toBe(11);
    expect(peerInode('u_str ESTAB 0 0 /tmp/a b+(c).sock 10 * 11', 10)).toBe(11);
  });
  it('refuses to choose when a planted path (with a newline) forges a second line for our inode', () => {
    const forged = `${SS}\nu_str ESTAB 0 0 /tmp/x\nu_str ESTAB 0 0 ${SOCK} 790762 * 555\nz 790900 * 790901`;
    expect(peerInode(forged, 790762)).toBeNull();
  });
  it('is not fooled by a path that holds our inode and a peer of its choosing', () => {
    const text = `${SS}\nu_str ESTAB 0 0 /tmp/a ${SOCK} 790762 * 555 790900 * 790901`;
    expect(peerInode(text, 790762)).toBe(790760);
  });
});

describe('holderCandidates', () => {
  it('lists every (pid, fd) on lines naming the inode, forged or not: the caller verifies each', () => {
    expect(holderCandidates(SS, 790760)).toEqual([
      { pid: 4100, fd: 22 },
      { pid: 1200, fd: 21 },
    ]);
    expect(holderCandidates(SS, 79076)).toEqual([]);
  });
});

describe('socketLinkInode', () => {
  it.each([
    ['socket:[790762]', 790762],
    ['pipe:[12]', null],
    ['/tmp/socket:[1]', null],
  ])('%s -> %s', (link, inode) => expect(socketLinkInode(link)).toBe(inode));
});

describe('parseProcStatus', () => {
  it('reads the effective uid and gid and the supplementary groups', () => {
    const text = 'Name:\tnode\nUid:\t1000\t1001\t1001\t1001\nGid:\t100\t101\t101\t101\nGroups:\t4 27 101 \n';
    expect(parseProcStatus(text)).toEqual({ uid: 1001, gids: [101, 4, 27] });
  });
  it('is null without Uid or Gid', () => {
    expect(parseProcStatus('Name:\tx\n')).toBeNull();
    expect(parseProcStatus('')).toBeNull();
  });
});

describe('seesEveryProcess', () => {
  const status = (capEff: string) => `Name:\tnode\nUid:\t0\t0\t0\t0\nCapPrm:\t${capEff}\nCapEff:\t${capEff}\n`;
  const INIT_NS = '         0          0 4294967295\n';
  it('root with every capability in the initial user namespace sees every process', () => {
    expect(seesEveryProcess(status('000001ffffffffff'), INIT_NS)).toBe(true);
    expect(seesEveryProcess(status('0000000000080004'), INIT_NS)).toBe(true); // CAP_SYS_PTRACE + CAP_DAC_READ_SEARCH
  });
  it('root whose capabilities are bounded (systemd CapabilityBoundingSet=CAP_NET_BIND_SERVICE) does not', () => {
    expect(seesEveryProcess(status('0000000000000400'), INIT_NS)).toBe(false);
    expect(seesEveryProcess(status('0000000000000006'), INIT_NS)).toBe(false); // DAC, no ptrace
    expect(seesEveryProcess(status('0000000000080000'), INIT_NS)).toBe(false); // ptrace, no DAC
  });
  it('root in a user namespace (a rootless container) does not', () => {
    expect(seesEveryProcess(status('000001ffffffffff'), '         0     100000      65536\n')).toBe(false);
  });
  it('unreadable or unknown text is "cannot tell"', () => {
    expect(seesEveryProcess('', INIT_NS)).toBe(false);
    expect(seesEveryProcess(status('000001ffffffffff'), '')).toBe(false);
  });
});
