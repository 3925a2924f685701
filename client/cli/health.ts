// `portmand health`: the latest health check results, or fresh ones with --check.
import { formatAge, table, type Paint } from './format.ts';
import type { HealthResult } from '../protocol.ts';
import type { Verb } from './args.ts';
import { pictures } from './charts.ts';
import { safe } from './safe.ts';
import { fetchSparks, renderSparks, type ServiceSparks } from './sparks.ts';
import { show } from './show.ts';

export const health: Verb = {
  name: 'health',
  args: '[service]',
  summary: 'show health check results (with --check: run the checks now)',
  options: { check: { type: 'boolean', help: 'run the checks now instead of showing the latest results' } },
  positionals: { min: 0, max: 1 },
  async run(ctx) {
    const pm = ctx.client();
    const name = ctx.positionals[0];
    let results: HealthResult[];
    if (ctx.values.check) results = await pm.health.check(name !== undefined ? { service: name } : {});
    else if (name !== undefined) results = [await pm.health.get({ service: name })];
    else results = await pm.health.list();
    // Sparklines are pictures: fetched and drawn only when they will be shown.
    // A daemon without the series (an older one) still gets its table, without the pictures.
    const sparks =
      !ctx.json && pictures(ctx.io)
        ? await Promise.all(results.map((r) => fetchSparks(pm, r.service, ctx.io.now()))).catch(() => undefined)
        : undefined;
    // `health <service>` prints health.get's one result as JSON; the table takes a list either way.
    const one = name !== undefined && !ctx.values.check;
    show<HealthResult | HealthResult[]>(ctx, one ? (results[0] as HealthResult) : results, (escaped, p) =>
      renderHealth(Array.isArray(escaped) ? escaped : [escaped], ctx.io.now(), p, sparks),
    );
  },
};

/** With `sparks` (one per result), two more columns: uptime and latency over 24 h, an hour a character. */
export function renderHealth(results: HealthResult[], now: number, p: Paint, sparks?: ServiceSparks[]): string {
  if (results.length === 0) return p.dim('no health results (register a service with a healthCheck)');
  const rows = results.map((r, i) => {
    const row = [
      safe(r.service),
      r.status === 'healthy' ? p.green(r.status) : p.red(r.status),
      r.latencyMs === null ? '-' : `${r.latencyMs} ms`,
      formatAge(r.checkedAt, now),
    ];
    const s = sparks?.[i] && renderSparks(sparks[i]);
    return [...row, ...(s ? [s.up, s.latency] : []), safe(r.error ?? '')];
  });
  const heads = ['SERVICE', 'STATUS', 'LATENCY', 'CHECKED', ...(sparks ? ['UP 24H', 'LATENCY 24H'] : []), 'ERROR'];
  return table(heads, rows, [], p.columns);
}
