// Which addresses a health check may reach. A daemon that probes whatever a
// client names lets every socket user scan the network (or a cloud metadata
// service) from the daemon's position, so by default a check only reaches
// this host's own addresses; the operator may allow remote ones.
import { parseIPv4, parseIPv6 } from './listeners.ts';

/**
 * An address as comparable bytes text: IPv4 dotted, IPv6 as eight hex words,
 * a v4-mapped IPv6 address as its IPv4 address, zone and brackets dropped.
 * Null when the text is not an IP address.
 */
function canonical(address: string): string | null {
  const text = address
    .trim()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/%.*$/, '')
    .toLowerCase();
  if (parseIPv4(text)) return text;
  const w = parseIPv6(text);
  if (!w) return null;
  if (w.slice(0, 5).every((x) => x === 0) && w[5] === 0xffff) return [w[6]! >> 8, w[6]! & 255, w[7]! >> 8, w[7]! & 255].join('.');
  return w.map((x) => x.toString(16)).join(':');
}

/** Loopback (127/8, ::1) and the unspecified address (which a connect reaches on this host) are always local. */
function alwaysLocal(c: string): boolean {
  return c.startsWith('127.') || c === '0.0.0.0' || c === '0:0:0:0:0:0:0:1' || c === '0:0:0:0:0:0:0:0';
}

/** Whether `address` is this host's: loopback, unspecified, or one of `local` (the interface addresses). */
export function isLocalAddress(address: string, local: readonly string[]): boolean {
  const c = canonical(address);
  if (c === null) return false;
  return alwaysLocal(c) || local.some((l) => canonical(l) === c);
}

/**
 * Why a check that would connect to `addresses` (every address its host
 * resolves to) is refused, or null when it may go ahead. Every address must
 * be local: the connection may go to any of them.
 */
export function targetRefusal(host: string, addresses: readonly string[], local: readonly string[], allowRemote: boolean): string | null {
  if (allowRemote) return null;
  if (addresses.length === 0) return `${host} resolves to no address`;
  const remote = addresses.find((a) => !isLocalAddress(a, local));
  if (remote === undefined) return null;
  const shown = remote === host ? host : `${host} (${remote})`;
  return `${shown} is not an address of this host; health checks reach only this host unless the config file sets "health": { "allowRemote": true }`;
}
