// Port choice with the host's last word: the core picks a candidate from the
// registry and the latest scan, then a bind probe confirms nothing listens
// there right now; a refused candidate is skipped and the next one tried.
import type { CheckResult, Protocol, Range } from '../../client/protocol.ts';
import { choosePort, suggestPorts } from '../core/allocate.ts';
import { rangeExhausted } from '../core/errors.ts';
import { resolveRange } from '../core/ranges.ts';
import { takenBy } from '../core/taken.ts';
import type { Registry } from '../registry.ts';

/** Probing stops after this many refused candidates: a range that busy is as good as exhausted. */
const MAX_PROBES = 256;

export interface PickRequest {
  protocol: Protocol;
  host: string;
  range?: string;
  preferred?: number;
  name?: string;
  /** Leases default to the dynamic range, long-lived services to the registered one. */
  lease?: boolean;
  /** Ports that must not be chosen even if free (e.g. the one a service is moving away from). */
  avoid?: readonly number[];
}

export function rangeFor(registry: Registry, req: { range?: string; lease?: boolean }): { range: Range; explicit: boolean } {
  const ranges = registry.deps.ranges;
  if (req.range !== undefined) return { range: resolveRange(req.range, ranges), explicit: true };
  const name = req.lease ? 'dynamic' : 'registered';
  return { range: ranges.find((r) => r.name === name)!, explicit: false };
}

/** Chooses a port nobody holds, reserves or listens on; throws -32003 when the range has none. */
export async function pickPort(registry: Registry, req: PickRequest): Promise<number> {
  const { range, explicit } = rangeFor(registry, req);
  const exclude = new Set<number>(req.avoid);
  for (let i = 0; i < MAX_PROBES; i++) {
    const port = choosePort(registry.index, registry.deps.policy, {
      protocol: req.protocol,
      range,
      explicitRange: explicit,
      ...(req.preferred !== undefined && { preferred: req.preferred }),
      ...(req.name !== undefined && { name: req.name }),
      exclude,
    });
    if (port === null) break;
    if ((await registry.deps.probe(port, req.protocol, req.host)) === null) return port;
    exclude.add(port);
  }
  throw rangeExhausted(range.name);
}

/**
 * Up to `count` ports suggestPorts proposes (in its order) that a bind probe
 * confirms: a process may listen on a port that no scan has seen yet. A
 * refused candidate is skipped and the next one asked for; a busy range ends
 * after MAX_PROBES probes with what was confirmed. Wildcard probes, because a
 * suggestion names no host and a listener on any address makes the port a bad one.
 */
export async function suggestFree(registry: Registry, req: { count: number; protocol: Protocol; range?: string; near?: number }): Promise<number[]> {
  const { range, explicit } = rangeFor(registry, req.range !== undefined ? { range: req.range } : {});
  const refused = new Set<number>();
  const confirmed = new Set<number>();
  for (let probes = 0; ; ) {
    const q = { protocol: req.protocol, range, explicitRange: explicit, exclude: refused };
    const candidates = suggestPorts(registry.index, registry.deps.policy, q, req.count, req.near);
    const unknown = candidates.filter((p) => !confirmed.has(p)).slice(0, MAX_PROBES - probes);
    if (unknown.length === 0) return candidates.filter((p) => confirmed.has(p));
    probes += unknown.length;
    const results = await Promise.all(unknown.map((p) => registry.deps.probe(p, req.protocol, '0.0.0.0')));
    unknown.forEach((p, i) => (results[i] === null ? confirmed : refused).add(p));
  }
}

const PROBE_REASONS: Record<string, string> = {
  EADDRINUSE: 'a process listens on it (not yet seen by a scan)',
  EACCES: 'binding it is not permitted (ports below 1024 need root)',
  EADDRNOTAVAIL: 'the address is not available on this host',
};

/** Whether a port is free: registry and latest scan first, then a bind probe. */
export async function checkPort(registry: Registry, port: number, protocol: Protocol, host: string): Promise<CheckResult> {
  const taken = takenBy(registry.state, registry.index, protocol, port);
  if (taken) return { port, available: false, reason: taken.reason, heldBy: taken.heldBy };
  const refused = await registry.deps.probe(port, protocol, host);
  if (refused === null) return { port, available: true };
  return { port, available: false, reason: PROBE_REASONS[refused] ?? `bind failed: ${refused}`, heldBy: {} };
}
