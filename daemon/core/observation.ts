// What the scanner saw: one listening TCP socket or bound UDP socket.
import type { Protocol } from '../../client/protocol.ts';

export interface Observation {
  protocol: Protocol;
  /** Local address as the OS reports it, normalised: "0.0.0.0", "::", "127.0.0.1", "::1", ... */
  address: string;
  port: number;
  family: 4 | 6;
  /** Unknown for other users' sockets when the daemon is not root. */
  pid?: number;
  process?: string;
}

/** One completed scan. */
export interface Scan {
  at: number;
  durationMs: number;
  listeners: Observation[];
}
