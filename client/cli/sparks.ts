// 24 h sparklines of a service's uptime and health latency, from stats.series,
// for `health`, `show` and `top`.
import type { PortmandClient } from '../client.ts';
import { sparkline } from './charts.ts';

export interface ServiceSparks {
  up: Array<number | null>;
  latencyMs: Array<number | null>;
}

/** Hourly points of the last 24 h (the current hour not yet included). */
export async function fetchSparks(pm: PortmandClient, service: string, now: number): Promise<ServiceSparks> {
  const from = new Date(Math.floor(now / 3_600_000) * 3_600_000 - 24 * 3_600_000).toISOString();
  const [up, latency] = await Promise.all([
    pm.stats.series({ metric: 'service.up', service, from, step: 3600 }),
    pm.stats.series({ metric: 'service.latencyMs', service, from, step: 3600 }),
  ]);
  return { up: up.points.map(([, v]) => v), latencyMs: latency.points.map(([, v]) => v) };
}

/** Uptime on a fixed 0..1 scale; latency on its own. */
export function renderSparks(s: ServiceSparks): { up: string; latency: string } {
  return { up: sparkline(s.up, { min: 0, max: 1 }), latency: sparkline(s.latencyMs, { min: 0 }) };
}
