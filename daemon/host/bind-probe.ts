// Bind probes: the last word on whether a port is free right now. A scan can
// be seconds old; a bind cannot lie about a listener that appeared since.
import dgram from 'node:dgram';
import net from 'node:net';
import type { Protocol } from '../../client/protocol.ts';

/** Resolves to null when the port can be bound, else the errno code that refused it (EADDRINUSE, EACCES, ...). */
export type PortProbe = (port: number, protocol: Protocol, host: string) => Promise<string | null>;

type Attempt = string | null | 'unsupported';
const unsupported = (code: string | undefined) => code === 'EAFNOSUPPORT' || code === 'EADDRNOTAVAIL';

const WILDCARDS = new Set(['0.0.0.0', '::', '']);

function tryListen(port: number, host: string): Promise<Attempt> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', (err: NodeJS.ErrnoException) => resolve(unsupported(err.code) ? 'unsupported' : (err.code ?? 'EADDRINUSE')));
    server.listen({ port, host, ipv6Only: false, exclusive: true, backlog: 1 }, () => server.close(() => resolve(null)));
  });
}

function tryBind(port: number, host: string, type: 'udp4' | 'udp6'): Promise<Attempt> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket({ type, ipv6Only: false });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      socket.close();
      resolve(unsupported(err.code) ? 'unsupported' : (err.code ?? 'EADDRINUSE'));
    });
    socket.bind({ port, address: host, exclusive: true }, () => socket.close(() => resolve(null)));
  });
}

/** Whether `host` is one of this host's addresses: binding it to any free UDP port fails (EADDRNOTAVAIL) when it is not. */
export async function isLocalAddress(host: string): Promise<boolean> {
  return (await tryBind(0, host, host.includes(':') ? 'udp6' : 'udp4')) !== 'unsupported';
}

/**
 * True when the port can be bound. A wildcard host is probed on the dual-stack
 * "::", which Linux and macOS refuse when any IPv4 or IPv6 address holds the
 * port; on a host without IPv6 it falls back to 0.0.0.0.
 */
export const bindProbe: PortProbe = async (port, protocol, host) => {
  const wildcard = WILDCARDS.has(host);
  const first = wildcard ? '::' : host;
  const attempt = (h: string) => (protocol === 'tcp' ? tryListen(port, h) : tryBind(port, h, h.includes(':') ? 'udp6' : 'udp4'));
  const r = await attempt(first);
  if (r !== 'unsupported') return r;
  if (!wildcard) return 'EADDRNOTAVAIL';
  const v4 = await attempt('0.0.0.0');
  return v4 === 'unsupported' ? 'EADDRNOTAVAIL' : v4;
};
