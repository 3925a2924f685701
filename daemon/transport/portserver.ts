// Google's portserver protocol, as portpicker (Python) and test runners that
// set PORTSERVER_ADDRESS speak it: the client connects, sends its pid and
// "\n", and reads a port and "\n" ("0\n" when it gets none). One request per
// connection. The input is a stranger's: it is bounded in size and in time,
// anything but a pid is answered "0", and nothing a client sends can throw.
// What a pid gets is `answer`'s business (ops/portserver.ts).
import net from 'node:net';
import type { ServerLog } from './connection.ts';
import { listenAtPath } from './server.ts';

/** A pid is at most 10 digits; a request longer than this is not one. */
export const MAX_REQUEST_BYTES = 32;

export interface PortserverOptions {
  /** An absolute socket path, or "@name" for Linux's abstract namespace. */
  address: string;
  /** The port leased to `pid`, or 0 when there is none to give; `socket` is the asking connection (whose peer may be looked up). */
  answer(pid: number, socket: net.Socket): Promise<number>;
  log: ServerLog;
  /** How long a connection may take to send its line (config limits.idleTimeoutSec). */
  idleTimeoutMs: number;
  /** Connections beyond this many are closed at once. */
  maxConnections: number;
  /** A path socket's mode and group: the main socket's. */
  socketMode: number;
  socketGid?: number;
}

export interface RunningPortserver {
  /** Stops accepting, closes open connections, waits for answers being made, removes a path socket. */
  close(): Promise<void>;
}

/** Another process answers on the abstract address. */
export class PortserverAddressInUseError extends Error {
  constructor(readonly address: string) {
    super(`portserver.address ${address} is in use by another process`);
    this.name = 'PortserverAddressInUseError';
  }
}

/** The pid in a request line, or null: decimal digits only (spaces around allowed, as Python's int() does). */
export function parsePid(line: string): number | null {
  const m = /^\s*(\d{1,10})\s*$/.exec(line);
  if (!m) return null;
  const pid = Number(m[1]);
  return pid >= 1 && pid <= 2 ** 31 - 1 ? pid : null;
}

export async function startPortserver(opts: PortserverOptions): Promise<RunningPortserver> {
  const sockets = new Set<net.Socket>();
  const answering = new Set<Promise<void>>();
  let closing = false;
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    socket.on('error', () => undefined); // a client that vanishes mid-answer is no error of ours
    if (closing || sockets.size >= opts.maxConnections) return void socket.destroy();
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    serve(socket);
  });
  /** One request: read a line (bounded), answer it once, close. */
  const serve = (socket: net.Socket) => {
    let state: 'reading' | 'answering' | 'done' = 'reading';
    let buffered = '';
    const finish = (port: number) => {
      if (state === 'done') return;
      state = 'done';
      clearTimeout(timer);
      // Closed once the answer is out: a client that keeps its end open holds no slot.
      socket.end(`${port}\n`, () => socket.destroy());
    };
    const request = (line: string) => {
      if (state !== 'reading') return;
      clearTimeout(timer);
      const pid = parsePid(line.replace(/\r$/, ''));
      if (pid === null) return finish(0);
      state = 'answering';
      const p = opts
        .answer(pid, socket)
        .catch((err: Error) => {
          opts.log.error({ err, pid }, 'portserver answer failed');
          return 0;
        })
        .then(finish);
      answering.add(p);
      void p.finally(() => answering.delete(p));
    };
    // A client that sends part of a line and then nothing is told 0 and closed.
    const timer = setTimeout(() => state === 'reading' && finish(0), opts.idleTimeoutMs);
    socket.setEncoding('latin1'); // a char a byte: the cap counts bytes, and no input is malformed text
    socket.on('data', (chunk: string) => {
      if (state !== 'reading') return;
      buffered += chunk;
      const nl = buffered.indexOf('\n');
      if (nl >= 0 && nl <= MAX_REQUEST_BYTES) request(buffered.slice(0, nl));
      else if (buffered.length > MAX_REQUEST_BYTES) finish(0);
    });
    // Without a newline, what came before the client's end is its request (Google's portserver reads it so too).
    socket.once('end', () => {
      if (state !== 'reading') return;
      if (buffered.trim() === '') finish(0);
      else request(buffered);
    });
  };
  server.on('error', (err) => opts.log.error({ err }, 'portserver socket error'));
  const { address, socketMode, socketGid, log } = opts;
  const release = address.startsWith('@')
    ? await listenAbstract(server, address)
    : await listenAtPath(server, { socketPath: address, socketMode, ...(socketGid !== undefined && { socketGid }), log });
  opts.log.info({ portserver: opts.address }, 'portserver listening');
  return {
    async close() {
      closing = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all([...answering]);
      for (const s of sockets) s.destroy();
      await closed;
      await release();
    },
  };
}

/** Linux's abstract namespace: "\0name", no file, nothing to remove; anyone on the host may connect. */
function listenAbstract(server: net.Server, address: string): Promise<() => Promise<void>> {
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new PortserverAddressInUseError(address) : err),
    );
    server.listen(`\0${address.slice(1)}`, () => resolve(async () => undefined));
  });
}
