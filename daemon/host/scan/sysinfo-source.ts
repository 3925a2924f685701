// The portable scan source (macOS, Linux, BSD) through systeminformation.
import { finishObservations } from '../../core/listeners.ts';
import type { Observation } from '../../core/observation.ts';
import { fromSystemInformation } from './sysinfo-parse.ts';

/**
 * Listening sockets as systeminformation sees them. It never rejects: a
 * failed netstat/ss comes back as an empty list, so an empty result is
 * indistinguishable from an idle host (see sysinfo-parse.ts for its gaps).
 */
export async function systeminformationSource(): Promise<Observation[]> {
  // Loaded on first use: it is a large library that Linux daemons never need.
  const { default: si } = await import('systeminformation');
  return finishObservations(fromSystemInformation(await si.networkConnections()));
}
