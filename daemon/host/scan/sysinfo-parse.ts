// Pure normalising of systeminformation's networkConnections() records.
//
// What it hands back differs by path (measured on Linux with si 5.33):
// - netstat path: protocol "tcp"/"tcp6"/"udp"/"udp6", wildcard "::", a
//   v4-mapped bind printed as plain "127.0.0.1" under tcp6, long IPv6
//   addresses truncated by netstat's column width, the process name cut at
//   its first space;
// - ss path: protocol "tcp"/"udp" only, "*" for a dual-stack wildcard,
//   "[::1]" and "[fe80::1]%eth0", a process whose name has a space loses its
//   pid, and a shared socket names its first user, not the lowest pid;
// - macOS: "tcp4"/"tcp6"/"tcp46", "*" wildcards, UDP with state "UNKNOWN".
// Both Linux paths keep only TCP state names, so a bound, unconnected UDP
// socket never appears there: on Linux the /proc source is the default.
// Ports are strings everywhere, and pid is null (or NaN) when unknown.
import type { Protocol } from '../../../client/protocol.ts';
import { normaliseAddress, observation } from '../../core/listeners.ts';
import type { Observation } from '../../core/observation.ts';

/** The shape of one networkConnections() record, loosely typed as it really arrives. */
export interface SiConnection {
  protocol: string;
  localAddress: string;
  localPort: string | number;
  peerAddress: string;
  peerPort: string | number;
  state: string;
  pid: number | null;
  process: string;
}

/** Listening TCP and unconnected UDP sockets among systeminformation's connections. */
export function fromSystemInformation(conns: readonly SiConnection[]): Observation[] {
  const out: Observation[] = [];
  for (const c of conns) {
    const protocol = baseProtocol(c.protocol);
    const port = Number(c.localPort);
    if (!protocol || !Number.isInteger(port) || port <= 0 || port > 65535) continue;
    if (protocol === 'tcp' ? c.state !== 'LISTEN' : !unconnected(c)) continue;
    const { address, family } = normaliseAddress(c.localAddress, familyOf(c.protocol));
    out.push(observation({ protocol, address, port, family }, { pid: c.pid, process: c.process }));
  }
  return out;
}

function baseProtocol(p: string): Protocol | null {
  const lower = p.toLowerCase();
  return lower.startsWith('tcp') ? 'tcp' : lower.startsWith('udp') ? 'udp' : null;
}

// "tcp6" and macOS's dual-stack "tcp46" are IPv6 sockets; "tcp4" is IPv4;
// plain "tcp" says nothing, and the address decides.
function familyOf(p: string): 4 | 6 | undefined {
  return p.endsWith('6') ? 6 : p.endsWith('4') ? 4 : undefined;
}

function unconnected(c: SiConnection): boolean {
  const peer = String(c.peerPort);
  return c.state !== 'ESTABLISHED' && (peer === '*' || peer === '' || peer === '0');
}
