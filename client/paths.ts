// Where the daemon's socket and state live. The rules are pure functions of
// the environment so that the daemon (config.ts) and every client compute the
// same paths from the same inputs, and tests can feed any environment.
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

/** The daemon's socket: $PORTMAND_SOCKET, else the per-platform default of PROTOCOL.md. */
export function defaultSocketPath(env: Env, ctx: PathContext): string {
  const explicit = nonEmpty(env.PORTMAND_SOCKET);
  if (explicit) return explicit;
  if (ctx.uid === 0) return `/run/${APP}/${SOCKET_FILE}`;
  const runtime = absolute(env.XDG_RUNTIME_DIR);
  if (runtime) return join(runtime, APP, SOCKET_FILE);
  if (ctx.platform === 'darwin') return join(macSupportDir(ctx.home), SOCKET_FILE);
  return join(xdgStateHome(env, ctx.home), APP, SOCKET_FILE);
}

/** The daemon's state directory: $PORTMAND_STATE_DIR, else the per-platform default. */
export function defaultStateDir(env: Env, ctx: PathContext): string {
  const explicit = nonEmpty(env.PORTMAND_STATE_DIR);
  if (explicit) return explicit;
  if (ctx.uid === 0) return `/var/lib/${APP}`;
  if (!absolute(env.XDG_STATE_HOME) && ctx.platform === 'darwin') return macSupportDir(ctx.home);
  return join(xdgStateHome(env, ctx.home), APP);
}

/** This process's platform, uid and home directory. */
export function processPathContext(): PathContext {
  return { platform: process.platform, uid: process.getuid?.(), home: os.homedir() };
}

/** The socket path this process uses when none is given (reads process.env). */
export function currentSocketPath(): string {
  return defaultSocketPath(process.env, processPathContext());
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
