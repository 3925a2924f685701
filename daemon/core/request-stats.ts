// Requests per method over the last minute, with p50 and p99 latency, for
// daemon.status. Memory is bounded whatever the request rate: one latency
// histogram per method per second (log-spaced bins, 10% wide), and only the
// last 60 seconds are kept. Percentiles are read from the bins, so they are
// within about 5% of the true value. Time comes in as `now` (ms).
import type { MethodLatency } from '../../client/protocol.ts';

const WINDOW_SEC = 60;
const MIN_MS = 0.01;
const GROWTH = 1.1;
/** Bins from 0.01 ms up to about 5 minutes; slower requests land in the last one. */
const BINS = Math.ceil(Math.log(300_000 / MIN_MS) / Math.log(GROWTH)) + 1;

interface Second {
  at: number;
  byMethod: Map<string, Uint32Array>;
}

export interface RequestFigures {
  total: number;
  byMethod: Record<string, MethodLatency>;
  totalSinceStart: number;
}

export class RequestStats {
  private readonly seconds: Second[] = [];
  private readonly sinceStart = new Map<string, number>();
  private totalSinceStart = 0;

  record(method: string, ms: number, now: number): void {
    const at = Math.floor(now / 1000);
    let second = this.seconds.at(-1);
    if (!second || second.at !== at) {
      second = { at, byMethod: new Map() };
      this.seconds.push(second);
      this.forgetBefore(at - WINDOW_SEC + 1);
    }
    let bins = second.byMethod.get(method);
    if (!bins) second.byMethod.set(method, (bins = new Uint32Array(BINS)));
    bins[binOf(ms)]!++;
    this.sinceStart.set(method, (this.sinceStart.get(method) ?? 0) + 1);
    this.totalSinceStart++;
  }

  /** The last 60 s (the current second included), and the counts since start. */
  figures(now: number): RequestFigures {
    const from = Math.floor(now / 1000) - WINDOW_SEC + 1;
    this.forgetBefore(from);
    const merged = new Map<string, Uint32Array>();
    for (const s of this.seconds) {
      for (const [method, bins] of s.byMethod) {
        const into = merged.get(method) ?? new Uint32Array(BINS);
        for (let i = 0; i < BINS; i++) into[i]! += bins[i]!;
        merged.set(method, into);
      }
    }
    const byMethod: Record<string, MethodLatency> = {};
    let total = 0;
    for (const [method, countSinceStart] of [...this.sinceStart].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const bins = merged.get(method);
      const count = bins ? bins.reduce((a, b) => a + b, 0) : 0;
      total += count;
      byMethod[method] = {
        count,
        p50Ms: bins ? quantile(bins, count, 0.5) : null,
        p99Ms: bins ? quantile(bins, count, 0.99) : null,
        countSinceStart,
      };
    }
    return { total, byMethod, totalSinceStart: this.totalSinceStart };
  }

  private forgetBefore(at: number): void {
    let old = 0;
    while (old < this.seconds.length && this.seconds[old]!.at < at) old++;
    if (old > 0) this.seconds.splice(0, old);
  }
}

function binOf(ms: number): number {
  if (!(ms > MIN_MS)) return 0;
  return Math.min(BINS - 1, Math.ceil(Math.log(ms / MIN_MS) / Math.log(GROWTH)));
}

/** The geometric middle of the bin holding the q-th request. */
function quantile(bins: Uint32Array, count: number, q: number): number | null {
  if (count === 0) return null;
  const rank = Math.max(1, Math.ceil(q * count));
  let seen = 0;
  for (let i = 0; i < BINS; i++) {
    seen += bins[i]!;
    if (seen >= rank) {
      const upper = MIN_MS * GROWTH ** i;
      const mid = i === 0 ? MIN_MS : upper / Math.sqrt(GROWTH);
      return Math.round(mid * 1000) / 1000;
    }
  }
  return null;
}
