// Pure parsing of Linux /proc/net/{tcp,tcp6,udp,udp6} and of the
// /proc/[pid]/fd links that tell which process holds which socket inode.
import type { Protocol } from '../../../client/protocol.ts';
import { formatIPv6, observation } from '../../core/listeners.ts';
import type { Observation } from '../../core/observation.ts';

/** A listening socket from /proc/net, before we know who owns it. */
export interface ProcSocket {
  protocol: Protocol;
  address: string;
  family: 4 | 6;
  port: number;
  /** 0 when the kernel gives none; such a socket can have no owner. */
  inode: number;
}

const TCP_LISTEN = '0A';
// UDP has no LISTEN: a bound socket that has not connect()ed sits in TCP_CLOSE.
const UDP_UNCONNECTED = '07';

/**
 * Listening TCP and unconnected bound UDP sockets in one /proc/net table.
 * Addresses there are hex words in host byte order: `littleEndian` is the
 * host's (os.endianness() === 'LE'), passed in so this stays pure.
 */
export function parseProcNet(text: string, protocol: Protocol, family: 4 | 6, littleEndian = true): ProcSocket[] {
  const out: ProcSocket[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    const [local, remote, state, inode] = [f[1], f[2], f[3], f[9]];
    if (!local || !remote || !state || inode === undefined) continue;
    const wanted = protocol === 'tcp' ? state === TCP_LISTEN : state === UDP_UNCONNECTED;
    const [hex, portHex] = local.split(':');
    const port = parseInt(portHex ?? '', 16);
    if (!wanted || !hex || !(port > 0)) continue;
    const address = hexAddress(hex, family, littleEndian);
    if (address !== null) out.push({ protocol, address, family, port, inode: Number(inode) || 0 });
  }
  return out;
}

/** "0100007F" -> "127.0.0.1"; 32 hex digits -> an IPv6 address as inet_ntop writes it. */
export function hexAddress(hex: string, family: 4 | 6, littleEndian = true): string | null {
  if (hex.length !== (family === 4 ? 8 : 32) || !/^[0-9A-Fa-f]+$/.test(hex)) return null;
  const bytes: number[] = [];
  for (let i = 0; i < hex.length; i += 8) {
    const word = [0, 2, 4, 6].map((j) => parseInt(hex.slice(i + j, i + j + 2), 16));
    bytes.push(...(littleEndian ? word.reverse() : word));
  }
  if (family === 4) return bytes.join('.');
  const words = Array.from({ length: 8 }, (_, i) => (bytes[2 * i]! << 8) | bytes[2 * i + 1]!);
  return formatIPv6(words);
}

/** The inode in an fd link such as "socket:[7537]", or null for anything else. */
export function socketInode(link: string): number | null {
  const m = /^socket:\[(\d+)\]$/.exec(link);
  return m ? Number(m[1]) : null;
}

/**
 * Which pid holds each wanted socket inode. A socket shared by several
 * processes (a forking server) goes to the lowest pid, usually the parent,
 * and the same rule picks among ss's users so both paths agree.
 */
export function lowestOwners(
  processes: Iterable<{ pid: number; fdLinks: Iterable<string> }>,
  wanted: ReadonlySet<number>,
): Map<number, number> {
  const owners = new Map<number, number>();
  for (const { pid, fdLinks } of processes) {
    for (const link of fdLinks) {
      const inode = socketInode(link);
      if (inode === null || !wanted.has(inode)) continue;
      const held = owners.get(inode);
      if (held === undefined || pid < held) owners.set(inode, pid);
    }
  }
  return owners;
}

/** Joins sockets to their owners; a socket whose owner is unknown gets no pid. */
export function withOwners(sockets: ProcSocket[], owners: ReadonlyMap<number, number>, names: ReadonlyMap<number, string>): Observation[] {
  return sockets.map(({ inode, ...base }) => {
    const pid = inode > 0 ? owners.get(inode) : undefined;
    return observation(base, { pid, process: pid !== undefined ? names.get(pid) : undefined });
  });
}
