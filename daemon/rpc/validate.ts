// The checks of params that a schema cannot express: they need this host's
// addresses or a parser. Each runs after the params passed their schema
// (rpc/params.ts) and throws -32602 naming the field and the problem.
import { isIP } from 'node:net';
import { invalidParams } from '../core/errors.ts';

/** Checks that an address is one of this host's own (an I/O question: main.ts supplies the answer). */
export type LocalAddressCheck = (host: string) => Promise<boolean>;

/**
 * A bind address of this host: an IPv4 or IPv6 literal (a name would need a
 * DNS lookup, and binds to whatever it resolves to) that this host has, so
 * that a remote address is refused here rather than failing every bind probe
 * and being reported as an exhausted range. Omitted: all addresses.
 */
export async function localHost(host: string | undefined, isLocal: LocalAddressCheck, field = 'host'): Promise<string> {
  if (host === undefined) return '0.0.0.0';
  if (isIP(host) === 0) throw invalidParams(field, 'must be an IP address such as "0.0.0.0", "127.0.0.1", "::" or "::1"');
  if (!(await isLocal(host)))
    throw invalidParams(
      field,
      `${host} is not an address of this host: use one of its own addresses, or "0.0.0.0" or "::" for all of them`,
    );
  return host;
}

/** A date or time as Date.parse reads it (ISO-8601), in ms; undefined when omitted. */
export function time(text: string | undefined, field: string): number | undefined {
  if (text === undefined) return undefined;
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw invalidParams(field, 'must be an ISO-8601 date or time');
  return t;
}
