// Which scan source a platform uses by default.
//
// Measured on a Linux VM (76 processes, 20 runs each; bench via timing.ts):
// `ss -H -ltunp` p50 7.4 ms, /proc p50 11.6 ms, systeminformation p50 15 ms.
// Reading /proc/net/tcp and tcp6 alone costs ~3.3 ms each, because the kernel
// walks the whole connection hash table, where ss asks netlink for LISTEN
// sockets only; and ss walks /proc/[pid]/fd in its own process, not on our
// event loop. So Linux uses ss, and /proc where ss is not installed.
// systeminformation is the portable path, and the only one off Linux: on
// Linux it misses bound UDP sockets (see sysinfo-parse.ts).
import type { Observation } from '../../core/observation.ts';
import { procSource } from './proc-source.ts';
import { ssSource } from './ss-source.ts';
import { systeminformationSource } from './sysinfo-source.ts';

export function defaultScanSource(platform: NodeJS.Platform = process.platform): () => Promise<Observation[]> {
  return platform === 'linux' ? linuxSource() : systeminformationSource;
}

/** ss, switching to /proc for good the first time ss turns out to be missing. */
export function linuxSource(ss = ssSource, proc: () => Promise<Observation[]> = () => procSource()): () => Promise<Observation[]> {
  let ssMissing = false;
  return async () => {
    if (!ssMissing) {
      try {
        return await ss();
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        ssMissing = true;
      }
    }
    return proc();
  };
}
