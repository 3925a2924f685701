// One spelling for every socket address, whichever tool reported it, so that
// records from /proc, ss, netstat and systeminformation compare equal.
import type { Observation } from './observation.ts';

export interface NormalAddress {
  address: string;
  family: 4 | 6;
}

/**
 * Normalises a local address as a tool prints it: brackets and a `%zone`
 * suffix are dropped, IPv6 is written the way inet_ntop writes it, and a
 * wildcard `*` becomes "::" or "0.0.0.0". `family` is what the tool said
 * (netstat's `tcp6`, macOS's `tcp4`); without it, `*` means "::" because ss
 * prints a dual-stack IPv6 wildcard that way and IPv4's as "0.0.0.0".
 * A dotted IPv4 address on an IPv6 socket (netstat's spelling of a v4-mapped
 * bind) becomes "::ffff:a.b.c.d". Text that is not an address (netstat
 * truncates long ones) is kept as printed rather than dropping the listener.
 */
export function normaliseAddress(raw: string, family?: 4 | 6): NormalAddress {
  const text = stripZone(raw.trim())
    .replace(/^\[(.*)\]$/, '$1')
    .toLowerCase();
  if (text === '*' || text === '') return family === 4 ? { address: '0.0.0.0', family: 4 } : { address: '::', family: 6 };
  if (parseIPv4(text)) return family === 6 ? { address: `::ffff:${text}`, family: 6 } : { address: text, family: 4 };
  const words = parseIPv6(text);
  return { address: words ? formatIPv6(words) : text, family: 6 };
}

function stripZone(text: string): string {
  const at = text.indexOf('%');
  if (at < 0) return text;
  const close = text.indexOf(']', at);
  return close < 0 ? text.slice(0, at) : text.slice(0, at) + text.slice(close);
}

/** The four octets of a dotted quad, or null. */
export function parseIPv4(text: string): number[] | null {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p))) return null;
  const octets = parts.map(Number);
  return octets.every((o) => o <= 255) ? octets : null;
}

/** The eight 16-bit words of an IPv6 address (with an optional dotted tail), or null. */
export function parseIPv6(text: string): number[] | null {
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = groupsOf(halves[0] ?? '');
  const tail = halves.length === 2 ? groupsOf(halves[1] ?? '') : [];
  if (!head || !tail) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  return [...head, ...new Array<number>(missing).fill(0), ...tail];
}

function groupsOf(text: string): number[] | null {
  if (text === '') return [];
  const out: number[] = [];
  const parts = text.split(':');
  for (const [i, part] of parts.entries()) {
    const v4 = i === parts.length - 1 && part.includes('.') ? parseIPv4(part) : null;
    if (v4) out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
    else if (/^[0-9a-f]{1,4}$/.test(part)) out.push(parseInt(part, 16));
    else return null;
  }
  return out;
}

/**
 * Writes eight words as glibc's inet_ntop does (what ss and netstat print):
 * lowercase, the first longest run of two or more zero words as "::", and a
 * dotted tail for v4-mapped (::ffff:a.b.c.d) and v4-compatible (::a.b.c.d).
 */
export function formatIPv6(words: number[]): string {
  const run = longestZeroRun(words);
  const dotted = run.start === 0 && (run.length === 6 || (run.length === 5 && words[5] === 0xffff));
  const groups = words.slice(0, dotted ? 6 : 8).map((w) => w.toString(16));
  let text: string;
  if (run.length < 2) text = groups.join(':');
  else text = `${groups.slice(0, run.start).join(':')}::${groups.slice(run.start + run.length).join(':')}`;
  if (!dotted) return text;
  const v4 = [words[6]! >> 8, words[6]! & 255, words[7]! >> 8, words[7]! & 255].join('.');
  return text.endsWith(':') ? text + v4 : `${text}:${v4}`;
}

function longestZeroRun(words: number[]): { start: number; length: number } {
  let best = { start: -1, length: 0 };
  let start = -1;
  for (let i = 0; i <= words.length; i++) {
    if (i < words.length && words[i] === 0) {
      if (start < 0) start = i;
    } else if (start >= 0) {
      if (i - start > best.length) best = { start, length: i - start };
      start = -1;
    }
  }
  return best;
}

/**
 * The final form of a scan: identical records once, in a stable order
 * (protocol, port, family, address, pid) so two sources' lists compare equal.
 */
export function finishObservations(records: Iterable<Observation>): Observation[] {
  // Sorted first, so that identical records are neighbours: no key string per record.
  const sorted = [...records].sort((a, b) => compareObservations(a, b) || compareText(a.process ?? '', b.process ?? ''));
  const out: Observation[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (!last || compareObservations(last, r) !== 0 || last.process !== r.process) out.push(r);
  }
  return out;
}

// Code-unit order, not localeCompare: the same on every host, and several
// times cheaper over thousands of listeners per scan.
function compareObservations(a: Observation, b: Observation): number {
  return (
    compareText(a.protocol, b.protocol) ||
    a.port - b.port ||
    a.family - b.family ||
    compareText(a.address, b.address) ||
    (a.pid ?? 0) - (b.pid ?? 0)
  );
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Builds a record, leaving pid and process out (not undefined) when unknown. */
export function observation(
  base: Omit<Observation, 'pid' | 'process'>,
  owner: { pid?: number | null; process?: string | null } = {},
): Observation {
  // A literal, not a spread: thousands per scan, and a spread of a fresh object is several times slower.
  const o: Observation = { protocol: base.protocol, address: base.address, port: base.port, family: base.family };
  if (owner.pid != null && Number.isInteger(owner.pid) && owner.pid > 0) o.pid = owner.pid;
  if (owner.process) o.process = owner.process;
  return o;
}
