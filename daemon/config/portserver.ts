// The config file's `portserver` object: where the daemon also answers Google's
// portserver protocol (daemon/transport/portserver.ts). The address is a socket
// path, or "@name" for Linux's abstract namespace (no file; on Linux only). Its
// shape is the schema's (schema.ts); what depends on the platform and on the
// daemon's own socket is checked here.

export interface PortserverConfig {
  /** An absolute socket path, or "@name" (abstract, Linux). */
  address: string;
}

/** sun_path holds 108 bytes on Linux and 104 on macOS, with the NUL that ends a path (an abstract name's first byte). */
function maxBytes(platform: string): number {
  return platform === 'linux' ? 107 : 103;
}

/**
 * What is wrong with `portserver.address` beyond its shape, as `key.path
 * problem` lines; `socketPath` is the daemon's own socket, which it may not be.
 * A value of the wrong shape is the schema's to report.
 */
export function portserverProblems(raw: unknown, platform: string, socketPath: string): string[] {
  const value = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>).address : undefined;
  if (typeof value !== 'string' || !/^[/@]/.test(value)) return [];
  const where = 'portserver.address';
  const problems: string[] = [];
  if (value.startsWith('@') && platform !== 'linux')
    problems.push(`${where} "${value}" names an abstract socket, which only Linux has; give a socket path instead`);
  if (value === '@') problems.push(`${where} "@" needs a name after the @`);
  const bytes = Buffer.byteLength(value);
  if (bytes > maxBytes(platform))
    problems.push(`${where} is ${bytes} bytes; Unix sockets allow at most ${maxBytes(platform)} here: use a shorter one`);
  if (value === socketPath) problems.push(`${where} is the daemon's own socket (${socketPath}); give another`);
  return problems;
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
