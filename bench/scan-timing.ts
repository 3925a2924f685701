// Timing of a scan source, for bench/: which path is fastest on this host.
import { performance } from 'node:perf_hooks';
import type { Observation } from '../daemon/core/observation.ts';

export interface SourceTiming {
  runs: number;
  minMs: number;
  p50Ms: number;
  meanMs: number;
  maxMs: number;
  /** Records in the last run, to spot a source that is fast because it sees nothing. */
  listeners: number;
}

/** Runs `source` `runs` times in sequence (after one warm-up run) and summarises. */
export async function timeSource(source: () => Promise<Observation[]>, runs: number): Promise<SourceTiming> {
  let listeners = (await source()).length;
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    listeners = (await source()).length;
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  const at = (q: number) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))] ?? 0;
  return {
    runs,
    minMs: at(0),
    p50Ms: at(0.5),
    meanMs: ms.reduce((a, b) => a + b, 0) / Math.max(1, ms.length),
    maxMs: at(1),
    listeners,
  };
}
