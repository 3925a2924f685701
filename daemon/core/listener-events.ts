// listener_started / listener_stopped: what changed between two consecutive
// scans. A listener is known by protocol, address, port and pid, so a process
// restarted on its port reads as one stopped and one started. Pure: the
// reconciler keeps the previous scan and hands both in.
import type { ListenerEvent } from '../../client/protocol.ts';
import type { Observation } from './observation.ts';
import type { EmittedEvent } from './state.ts';

function key(o: Observation): string {
  return `${o.protocol}/${o.address}/${o.port}/${o.pid ?? ''}`;
}

function data(o: Observation): ListenerEvent {
  return {
    port: o.port,
    protocol: o.protocol,
    address: o.address,
    ...(o.pid !== undefined && { pid: o.pid }),
    ...(o.process !== undefined && { process: o.process }),
  };
}

/**
 * The listeners that went away (first) and those that appeared, each group in
 * port order. `previous` null means there was no earlier scan: the first scan
 * after start finds what was already there, not what appeared, so it says
 * nothing (a daemon restart would otherwise announce every listener on the host).
 */
export function listenerChanges(previous: readonly Observation[] | null, next: readonly Observation[]): EmittedEvent[] {
  if (previous === null) return [];
  const before = new Map(previous.map((o) => [key(o), o]));
  const after = new Map(next.map((o) => [key(o), o]));
  const byPort = (a: Observation, b: Observation) => a.port - b.port || (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
  const stopped = [...before].filter(([k]) => !after.has(k)).map(([, o]) => o);
  const started = [...after].filter(([k]) => !before.has(k)).map(([, o]) => o);
  return [
    ...stopped.sort(byPort).map((o): EmittedEvent => ({ type: 'listener_stopped', data: data(o) })),
    ...started.sort(byPort).map((o): EmittedEvent => ({ type: 'listener_started', data: data(o) })),
  ];
}
