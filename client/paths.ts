// Where the daemon's socket and state live. The rules are pure functions of
// the environment so that the daemon (daemon/config/config.ts) and every client compute the
// same paths from the same inputs, and tests can feed any environment.
import { existsSync } from 'node:fs';
import os from 'node:os';

export type Env = Readonly<Record<string, string | undefined>>;

/** The non-environment inputs the path rules depend on. */
export interface PathContext {
  platform: string;
  /** -1 (or undefined) where the platform has no uids. */
  uid: number | undefined;
  home: string;
}

const APP = 'portmand';
const SOCKET_FILE = 'portmand.sock';
const CONFIG_FILE = 'config.json';

/** The daemon's socket: $PORTMAND_SOCKET, else the per-platform default of PROTOCOL.md. */
export function defaultSocketPath(env: Env, ctx: PathContext): string {
  const explicit = nonEmpty(env.PORTMAND_SOCKET);
  if (explicit) return explicit;
  if (ctx.uid === 0) return systemSocketPath(ctx);
  const runtime = absolute(env.XDG_RUNTIME_DIR);
  if (runtime) return join(runtime, APP, SOCKET_FILE);
  if (ctx.platform === 'darwin') return join(macSupportDir(ctx.home), SOCKET_FILE);
  return join(xdgStateHome(env, ctx.home), APP, SOCKET_FILE);
}

/** The system daemon's socket: /run on Linux; macOS has /var/run only. */
export function systemSocketPath(ctx: Pick<PathContext, 'platform'>): string {
  return ctx.platform === 'darwin' ? `/var/run/${APP}/${SOCKET_FILE}` : `/run/${APP}/${SOCKET_FILE}`;
}

/** Where a client's socket path came from, for `status` and error messages. */
export type SocketSource = 'env' | 'user' | 'system';

/**
 * The socket a client talks to: $PORTMAND_SOCKET; else, for root, the system
 * socket; else the per-user socket if it is there; else the system socket if
 * that is there (a host-wide daemon serves everyone in its socket group);
 * else the per-user path, which the "not running" message then names.
 */
export function clientSocket(env: Env, ctx: PathContext, exists: (path: string) => boolean): { path: string; source: SocketSource } {
  if (nonEmpty(env.PORTMAND_SOCKET)) return { path: env.PORTMAND_SOCKET as string, source: 'env' };
  if (ctx.uid === 0) return { path: systemSocketPath(ctx), source: 'system' };
  const user = defaultSocketPath(env, ctx);
  if (exists(user)) return { path: user, source: 'user' };
  const system = systemSocketPath(ctx);
  if (exists(system)) return { path: system, source: 'system' };
  return { path: user, source: 'user' };
}

/** The daemon's state directory: $PORTMAND_STATE_DIR, else the per-platform default. */
export function defaultStateDir(env: Env, ctx: PathContext): string {
  const explicit = nonEmpty(env.PORTMAND_STATE_DIR);
  if (explicit) return explicit;
  if (ctx.uid === 0) return `/var/lib/${APP}`;
  if (!absolute(env.XDG_STATE_HOME) && ctx.platform === 'darwin') return macSupportDir(ctx.home);
  return join(xdgStateHome(env, ctx.home), APP);
}

/**
 * The config file the daemon reads: $PORTMAND_CONFIG (as given; the reader
 * resolves a relative one); else, for a system daemon (root),
 * /etc/portmand/config.json (/Library/Application Support/portmand on macOS);
 * else $XDG_CONFIG_HOME/portmand/config.json, else
 * ~/Library/Application Support/portmand/config.json on macOS, else
 * ~/.config/portmand/config.json.
 */
export function configFilePath(env: Env, ctx: PathContext): { path: string; from: 'env' | 'default' } {
  const explicit = nonEmpty(env.PORTMAND_CONFIG);
  if (explicit) return { path: explicit, from: 'env' };
  if (ctx.uid === 0)
    return {
      path: ctx.platform === 'darwin' ? `/Library/Application Support/${APP}/${CONFIG_FILE}` : `/etc/${APP}/${CONFIG_FILE}`,
      from: 'default',
    };
  const xdg = absolute(env.XDG_CONFIG_HOME);
  if (!xdg && ctx.platform === 'darwin') return { path: join(macSupportDir(ctx.home), CONFIG_FILE), from: 'default' };
  return { path: join(xdg ?? join(ctx.home, '.config'), APP, CONFIG_FILE), from: 'default' };
}

/** This process's platform, uid and home directory. */
export function processPathContext(): PathContext {
  return { platform: process.platform, uid: process.getuid?.(), home: os.homedir() };
}

/** The socket path a client in this process uses when none is given (reads process.env and the file system). */
export function currentSocketPath(): string {
  return currentClientSocket().path;
}

export function currentClientSocket(): { path: string; source: SocketSource } {
  return clientSocket(process.env, processPathContext(), existsSync);
}

/** The state directory this process would use (reads process.env). */
export function currentStateDir(): string {
  return defaultStateDir(process.env, processPathContext());
}

function xdgStateHome(env: Env, home: string): string {
  return absolute(env.XDG_STATE_HOME) ?? join(home, '.local/state');
}

function macSupportDir(home: string): string {
  return join(home, 'Library/Application Support', APP);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value ? value : undefined;
}

// The XDG base directory spec says a relative path in these variables is
// invalid and must be ignored, and an empty one counts as unset.
function absolute(value: string | undefined): string | undefined {
  return value && value.startsWith('/') ? value : undefined;
}

function join(...parts: string[]): string {
  return parts.map((p, i) => (i === 0 ? p.replace(/\/+$/, '') : p.replace(/^\/+|\/+$/g, ''))).join('/');
}
