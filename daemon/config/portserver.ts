// The config file's `portserver` object: where the daemon also answers Google's
// portserver protocol (daemon/transport/portserver.ts). The address is a socket
// path, or "@name" for Linux's abstract namespace (no file; on Linux only).
import { ConfigError, keyed } from './readers.ts';

export interface PortserverConfig {
  /** An absolute socket path, or "@name" (abstract, Linux). */
  address: string;
}

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** sun_path holds 108 bytes on Linux and 104 on macOS, with the NUL that ends a path (an abstract name's first byte). */
function maxBytes(platform: string): number {
  return platform === 'linux' ? 107 : 103;
}

function address(value: unknown, where: string, platform: string): string {
  if (typeof value !== 'string' || value === '' || CONTROL.test(value))
    throw new ConfigError(`${where} must be a socket path or "@name", got ${JSON.stringify(value)}`);
  const bytes = Buffer.byteLength(value);
  if (value.startsWith('@')) {
    if (platform !== 'linux')
      throw new ConfigError(`${where} "${value}" names an abstract socket, which only Linux has; give a socket path instead`);
    if (value.length === 1) throw new ConfigError(`${where} "@" needs a name after the @`);
  } else if (!value.startsWith('/')) {
    throw new ConfigError(`${where} must be an absolute socket path or "@name", got ${JSON.stringify(value)}`);
  }
  if (bytes > maxBytes(platform))
    throw new ConfigError(`${where} is ${bytes} bytes; Unix sockets allow at most ${maxBytes(platform)} here: use a shorter one`);
  return value;
}

/** The `portserver` key, or null when absent; `socketPath` is the daemon's own socket, which it may not be. */
export function portserverConfig(raw: unknown, file: string, platform: string, socketPath: string): PortserverConfig | null {
  if (raw === undefined) return null;
  const where = `${file}: portserver`;
  const read = keyed<{ address?: string }>(raw, where, {}, { address: (v, w) => address(v, w, platform) });
  if (read.address === undefined)
    throw new ConfigError(`${where}.address is required: a socket path, or "@name" for Linux's abstract namespace`);
  if (read.address === socketPath) throw new ConfigError(`${where}.address is the daemon's own socket (${socketPath}); give another`);
  return { address: read.address };
}

/**
 * Whether this runtime binds an abstract name as other programs connect to it.
 * libuv before 1.48 (Node 20's) binds it padded with NULs to the whole of
 * sun_path, so a client naming "@name" (portpicker, socat) finds nothing
 * there (nodejs/node#50889, fixed by libuv#4266).
 */
export function abstractSocketsWork(uvVersion: string): boolean {
  const [major = 0, minor = 0] = uvVersion.split('.').map(Number);
  return major > 1 || (major === 1 && minor >= 48);
}

/** The problem with an abstract address on this runtime, or null. */
export function abstractRefusal(config: PortserverConfig | null, uvVersion: string): string | null {
  if (!config?.address.startsWith('@') || abstractSocketsWork(uvVersion)) return null;
  return (
    `portserver.address ${config.address}: this Node (libuv ${uvVersion}) binds abstract names padded with NUL bytes, ` +
    'so portpicker and other clients could not connect; give a socket path instead, or run on Node 22 or later (libuv 1.48+)'
  );
}
