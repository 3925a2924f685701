// `portmand show <service>`: one service in full, with its conflicts, its
// latest health check and, on a terminal, 24 h sparklines of uptime and latency.
import type { ServiceDetail } from '../protocol.ts';
import type { Verb } from './args.ts';
import { pictures } from './charts.ts';
import { formatAge, keyValues, type Paint } from './format.ts';
import { renderStatusWord } from './render.ts';
import { safe } from './safe.ts';
import { show } from './show.ts';
import { fetchSparks, renderSparks, type ServiceSparks } from './sparks.ts';

export const showService: Verb = {
  name: 'show',
  args: '<service>',
  summary: 'one service in full: port, owner, health, conflicts, and 24 h uptime and latency sparklines',
  details: 'With --json: the service.get result.',
  options: {},
  positionals: { min: 1, max: 1 },
  async run(ctx) {
    const pm = ctx.client();
    const s = await pm.service.get({ name: ctx.positionals[0] as string });
    const sparks = !ctx.json && pictures(ctx.io) ? await fetchSparks(pm, s.name, ctx.io.now()).catch(() => undefined) : undefined;
    show(ctx, s, (escaped, p) => renderServiceDetail(escaped, ctx.io.now(), p, sparks));
  },
};

export function renderServiceDetail(s: ServiceDetail, now: number, p: Paint, sparks?: ServiceSparks): string {
  const owner = [s.pid !== undefined ? `pid ${s.pid}` : '', s.process ? safe(s.process) : ''].filter(Boolean).join(' ') || '-';
  const check = s.healthCheck ? (s.healthCheck.type === 'http' ? `http ${safe(s.healthCheck.url)}` : 'tcp') : 'none';
  const h = s.health;
  const rows: Array<[string, string]> = [
    ['service', safe(s.name)],
    ['port', `${s.port}/${s.protocol} on ${safe(s.host)}`],
    ['status', renderStatusWord(s.status, p)],
    ['owner', owner],
    ['tags', s.tags.map(safe).join(', ') || '-'],
    ['registered', formatAge(s.registeredAt, now)],
    ...(s.expiresAt ? [['lease', `expires ${formatAge(s.expiresAt, now)}`] as [string, string]] : []),
    ['health check', check],
    [
      'last check',
      h
        ? `${h.status}, ${h.latencyMs === null ? 'no answer' : `${h.latencyMs} ms`}, ${formatAge(h.checkedAt, now)}${h.error ? ` (${safe(h.error)})` : ''}`
        : '-',
    ],
  ];
  if (sparks) {
    const r = renderSparks(sparks);
    rows.push(['uptime 24h', `${r.up}  (an hour a character, oldest left)`], ['latency 24h', r.latency]);
  }
  rows.push([
    'conflicts',
    s.conflicts.length === 0 ? 'none' : s.conflicts.map((c) => `${safe(c.id)} ${safe(c.type)} on ${c.port}`).join('; '),
  ]);
  return keyValues(rows);
}
