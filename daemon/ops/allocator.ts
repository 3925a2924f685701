// Port choice with the host's last word: the core picks a candidate from the
// registry and the latest scan, then a bind probe confirms nothing listens
// there right now; a refused candidate is skipped and the next one tried.
// The allocator owns what choosing needs besides the registry: the probe,
// the policy and the configured ranges.
import type { CheckResult, Protocol, Range } from '../../client/protocol.ts';
import { choosePort, suggestPorts, type AllocationPolicy } from '../core/allocate.ts';
import { rangeExhausted } from '../core/errors.ts';
import type { PortIndex } from '../core/portindex.ts';
import { resolveRange } from '../core/ranges.ts';
import type { State } from '../core/state.ts';
import { takenBy } from '../core/taken.ts';
import type { PortProbe } from '../host/bind-probe.ts';

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

export interface AllocatorDeps {
  /** The registry's state and index, read only. */
  registry: { readonly state: State; readonly index: PortIndex };
  probe: PortProbe;
  policy: AllocationPolicy;
  ranges: readonly Range[];
}

const PROBE_REASONS: Record<string, string> = {
  EADDRINUSE: 'a process listens on it (not yet seen by a scan)',
  EACCES: 'binding it is not permitted (ports below 1024 need root)',
  EADDRNOTAVAIL: 'the address is not available on this host',
};

export class Allocator {
  constructor(private readonly deps: AllocatorDeps) {}

  get ranges(): readonly Range[] {
    return this.deps.ranges;
  }

  get policy(): AllocationPolicy {
    return this.deps.policy;
  }

  /** Tries to bind the port: null when it could, else the error code. */
  probe(port: number, protocol: Protocol, host: string): Promise<string | null> {
    return this.deps.probe(port, protocol, host);
  }

  rangeFor(req: { range?: string; lease?: boolean }): { range: Range; explicit: boolean } {
    const ranges = this.deps.ranges;
    if (req.range !== undefined) return { range: resolveRange(req.range, ranges), explicit: true };
    const name = req.lease ? 'dynamic' : 'registered';
    return { range: ranges.find((r) => r.name === name)!, explicit: false };
  }

  /** Chooses a port nobody holds, reserves or listens on; throws -32003 when the range has none. */
  async pickPort(req: PickRequest): Promise<number> {
    const { range, explicit } = this.rangeFor(req);
    const exclude = new Set<number>(req.avoid);
    for (let i = 0; i < MAX_PROBES; i++) {
      const port = choosePort(this.deps.registry.index, this.deps.policy, {
        protocol: req.protocol,
        range,
        explicitRange: explicit,
        ...(req.preferred !== undefined && { preferred: req.preferred }),
        ...(req.name !== undefined && { name: req.name }),
        exclude,
      });
      if (port === null) break;
      if ((await this.deps.probe(port, req.protocol, req.host)) === null) return port;
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
  async suggestFree(req: { count: number; protocol: Protocol; range?: string; near?: number }): Promise<number[]> {
    const { range, explicit } = this.rangeFor(req.range !== undefined ? { range: req.range } : {});
    const refused = new Set<number>();
    const confirmed = new Set<number>();
    for (let probes = 0; ;) {
      const q = { protocol: req.protocol, range, explicitRange: explicit, exclude: refused };
      const candidates = suggestPorts(this.deps.registry.index, this.deps.policy, q, req.count, req.near);
      const unknown = candidates.filter((p) => !confirmed.has(p)).slice(0, MAX_PROBES - probes);
      if (unknown.length === 0) return candidates.filter((p) => confirmed.has(p));
      probes += unknown.length;
      const results = await Promise.all(unknown.map((p) => this.deps.probe(p, req.protocol, '0.0.0.0')));
      unknown.forEach((p, i) => (results[i] === null ? confirmed : refused).add(p));
    }
  }

  /** Whether a port is free: registry and latest scan first, then a bind probe. */
  async checkPort(port: number, protocol: Protocol, host: string): Promise<CheckResult> {
    const { state, index } = this.deps.registry;
    const taken = takenBy(state, index, protocol, port);
    if (taken) return { port, available: false, reason: taken.reason, heldBy: taken.heldBy };
    const refused = await this.deps.probe(port, protocol, host);
    if (refused === null) return { port, available: true };
    return { port, available: false, reason: PROBE_REASONS[refused] ?? `bind failed: ${refused}`, heldBy: {} };
  }
}
