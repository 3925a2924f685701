// Choosing a port: the caller's preferred port if it is free, else a slot
// derived from the service name (so a service tends to get the same port on
// every host), else the lowest free port. Pure: the registry passes in the
// index of taken ports and, after a failed bind probe, the ports to skip.
import type { Protocol, Range } from '../../client/protocol.ts';
import type { PortIndex } from './portindex.ts';
import { contains, type PortSpan } from './ranges.ts';

export interface AllocationPolicy {
  /** The OS's ephemeral range, where outgoing connections take ports at random. */
  ephemeral: PortSpan | null;
  /** Ports browsers refuse to connect to; skipped unless asked for by number. */
  unsafe: ReadonlySet<number>;
}

export interface PortQuery {
  protocol: Protocol;
  range: Range;
  /** The caller named the range, so the policy's avoidances give way to it. */
  explicitRange: boolean;
  preferred?: number;
  /** Seeds the stable first choice. */
  name?: string;
  /** Ports a bind probe refused during this request. */
  exclude?: ReadonlySet<number>;
}

/** The Fetch standard's "bad ports": browsers refuse to connect to them. */
export const BROWSER_UNSAFE_PORTS: ReadonlySet<number> = new Set([
  1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104, 109, 110, 111, 113, 115, 117,
  119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636,
  989, 990, 993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
]);

/** The parts of the range a query may use: the range minus the ephemeral span unless the caller named it. */
export function usableSpans(q: PortQuery, policy: AllocationPolicy): PortSpan[] {
  const start = Math.max(q.range.start, 1);
  const whole = [{ start, end: q.range.end }];
  const eph = policy.ephemeral;
  if (q.explicitRange || !eph || eph.end < start || eph.start > q.range.end) return whole;
  const spans: PortSpan[] = [];
  if (eph.start > start) spans.push({ start, end: eph.start - 1 });
  if (eph.end < q.range.end) spans.push({ start: eph.end + 1, end: q.range.end });
  // A range wholly inside the ephemeral span is still better than nothing.
  return spans.length > 0 ? spans : whole;
}

function isFree(index: PortIndex, q: PortQuery, port: number): boolean {
  return !index.isTaken(q.protocol, port, q.name) && !q.exclude?.has(port);
}

function isChoosable(index: PortIndex, policy: AllocationPolicy, q: PortQuery, port: number): boolean {
  return isFree(index, q, port) && (q.explicitRange || !policy.unsafe.has(port));
}

/** FNV-1a: a stable, well-spread 32-bit hash of the service name. */
export function nameHash(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** The port a name maps to within the spans, the same on every host with the same spans. */
export function stableSlot(name: string, spans: readonly PortSpan[]): number | null {
  const size = spans.reduce((n, s) => n + s.end - s.start + 1, 0);
  if (size === 0) return null;
  let offset = nameHash(name) % size;
  for (const s of spans) {
    const len = s.end - s.start + 1;
    if (offset < len) return s.start + offset;
    offset -= len;
  }
  return null;
}

/** Picks a port for the query, or null when the range has none left. */
export function choosePort(index: PortIndex, policy: AllocationPolicy, q: PortQuery): number | null {
  const p = q.preferred;
  if (p !== undefined && p > 0 && (!q.explicitRange || contains(q.range, p)) && isFree(index, q, p)) return p;
  // A port reserved for this very service is what the reservation was for.
  if (q.name !== undefined) {
    for (const r of index.reservedPortsOf(q.protocol, q.name))
      if ((!q.explicitRange || contains(q.range, r)) && isFree(index, q, r)) return r;
  }
  const spans = usableSpans(q, policy);
  if (q.name !== undefined) {
    const slot = stableSlot(q.name, spans);
    if (slot !== null && isChoosable(index, policy, q, slot)) return slot;
  }
  for (const s of spans) {
    for (let port = s.start; port <= s.end; port++) if (isChoosable(index, policy, q, port)) return port;
  }
  return null;
}

/** Up to `count` free ports, nearest to `near` first when given, else lowest first. */
export function suggestPorts(index: PortIndex, policy: AllocationPolicy, q: PortQuery, count: number, near?: number): number[] {
  const spans = usableSpans(q, policy);
  const ok = (port: number) => spans.some((s) => contains(s, port)) && isChoosable(index, policy, q, port);
  const out: number[] = [];
  if (near === undefined) {
    for (const s of spans) {
      for (let port = s.start; port <= s.end && out.length < count; port++) if (ok(port)) out.push(port);
    }
    return out;
  }
  const lo = spans[0]?.start ?? 0;
  const hi = spans[spans.length - 1]?.end ?? -1;
  for (let d = 0; out.length < count && (near - d >= lo || near + d <= hi); d++) {
    if (ok(near + d)) out.push(near + d);
    if (d > 0 && out.length < count && ok(near - d)) out.push(near - d);
  }
  return out;
}
