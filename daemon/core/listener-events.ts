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
  let stopped = [...before].filter(([k]) => !after.has(k)).map(([, o]) => o);
  let started = [...after].filter(([k]) => !before.has(k)).map(([, o]) => o);
  // A socket made while ss was reading /proc is listed without its process, and with it at the next
  // scan: one listener whose owner became known (or was missed once), not one stopped and one started.
  const same = pairedWithoutPid(stopped, started);
  stopped = stopped.filter((o) => !same.has(o));
  started = started.filter((o) => !same.has(o));
  return [
    ...stopped.sort(byPort).map((o): EmittedEvent => ({ type: 'listener_stopped', data: data(o) })),
    ...started.sort(byPort).map((o): EmittedEvent => ({ type: 'listener_started', data: data(o) })),
  ];
}

/** The stopped and started listeners on one protocol, address and port where one side has no pid. */
function pairedWithoutPid(stopped: Observation[], started: Observation[]): Set<Observation> {
  const place = (o: Observation) => `${o.protocol}/${o.address}/${o.port}`;
  const startedAt = new Map<string, Observation[]>();
  for (const o of started) {
    const here = startedAt.get(place(o));
    if (here) here.push(o);
    else startedAt.set(place(o), [o]);
  }
  const paired = new Set<Observation>();
  for (const s of stopped) {
    const t = startedAt.get(place(s))?.find((o) => !paired.has(o) && (s.pid === undefined || o.pid === undefined));
    if (t) paired.add(s).add(t);
  }
  return paired;
}
