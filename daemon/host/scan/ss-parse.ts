// Pure parsing of `ss -H -ltunp` (iproute2): listening TCP and bound UDP.
import { normaliseAddress, observation } from '../../core/listeners.ts';
import type { Observation } from '../../core/observation.ts';

// Netid, State, Recv-Q, Send-Q, Local, Peer, then the process column, whose
// names may contain spaces (a process.title of "my svc"). ss prints a name's
// bytes raw, and a process may name itself with \r or U+2028, which `.` does
// not match: [^] does, or such a process would hide its listener from the scan.
const LINE = /^(\S+)\s+(\S+)\s+\S+\s+\S+\s+(\S+)\s+(\S+)\s*([^]*)$/;
const USER = /\("([^]*?)",pid=(\d+),fd=\d+\)/g;
/** Where a record starts: its Netid. A line that does not start so continues the last record. */
const RECORD = /^(?:tcp|udp)\s/;

/**
 * ss's lines, with a process name's raw newline put back: a name (any 15
 * bytes) may hold \n, which splits its record over lines, and the pid after
 * the name would be lost, leaving the listener attributed to nobody.
 */
function records(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (RECORD.test(line) || out.length === 0) out.push(line);
    else out[out.length - 1] += `\n${line}`;
  }
  return out;
}

/** Records from `ss -H -ltunp` text (a header line, if present, is skipped). */
export function parseSsListening(text: string): Observation[] {
  const out: Observation[] = [];
  // Thousands of listeners share a handful of addresses: normalise each once.
  const addresses = new Map<string, ReturnType<typeof normaliseAddress>>();
  for (const line of records(text)) {
    const m = LINE.exec(line.trim());
    if (!m) continue;
    const [, netid, state, local, peer, users] = m as unknown as [string, string, string, string, string, string];
    const listening = (netid === 'tcp' && state === 'LISTEN') || (netid === 'udp' && state === 'UNCONN' && peer.endsWith(':*'));
    const cut = local.lastIndexOf(':');
    const port = Number(local.slice(cut + 1));
    if (!listening || cut < 0 || !Number.isInteger(port) || port <= 0) continue;
    const raw = local.slice(0, cut);
    let normal = addresses.get(raw);
    if (!normal) addresses.set(raw, (normal = normaliseAddress(raw)));
    const { address, family } = normal;
    out.push(observation({ protocol: netid === 'tcp' ? 'tcp' : 'udp', address, port, family }, lowestUser(users)));
  }
  return out;
}

/** The lowest-pid process in ss's `users:(("name",pid=N,fd=M),...)` column. */
export function lowestUser(users: string): { pid?: number; process?: string } {
  let best: { pid?: number; process?: string } = {};
  for (const [, name, pid] of users.matchAll(USER)) {
    const n = Number(pid);
    if (best.pid === undefined || n < best.pid) best = { pid: n, process: name ?? '' };
  }
  return best;
}
