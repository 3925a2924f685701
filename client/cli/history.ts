// `portmand history`: who got, moved, released and reserved which port.
import type { PortHistoryEntry } from '../protocol.ts';
import { int, port, str, UsageError, type Verb } from './args.ts';
import { formatAge, table, type Paint } from './format.ts';
import { safe } from './safe.ts';
import { show } from './show.ts';

export const history: Verb = {
  name: 'history',
  summary: 'port assignment history: assigned, moved, released, lease expired, reserved (newest first)',
  details: 'With --json: the port.history result, an array of { time, action, service?, port, previous?, by }.',
  options: {
    service: { type: 'string', value: 'S', help: 'only this service' },
    port: { type: 'string', value: 'N', help: 'only this port (as the new or the previous one)' },
    since: { type: 'string', value: 'T', help: 'only since T: an ISO time, or an age such as 30m, 6h, 7d' },
    n: { type: 'string', short: 'n', value: 'N', help: 'at most N lines (default 50)' },
  },
  positionals: { min: 0, max: 0 },
  async run(ctx) {
    const v = ctx.values;
    const since = str(v.since);
    const lines = await ctx.client().port.history({
      ...(str(v.service) !== undefined && { service: str(v.service)! }),
      ...(v.port !== undefined && { port: port(v.port, '--port') }),
      ...(since !== undefined && { since: parseSince(since, ctx.io.now()) }),
      limit: int(v.n ?? '50', '-n', 1, 10_000),
    });
    show(ctx, lines, (escaped, p) => renderHistory(escaped, ctx.io.now(), p));
  },
};

/** "30m", "6h", "7d" before `now`, or an ISO time as given. */
export function parseSince(text: string, now: number): string {
  const m = /^(\d+)([smhd])$/.exec(text);
  if (m) return new Date(now - Number(m[1]) * { s: 1e3, m: 6e4, h: 36e5, d: 864e5 }[m[2] as 's' | 'm' | 'h' | 'd']).toISOString();
  if (Number.isNaN(Date.parse(text)))
    throw new UsageError(`--since must be an ISO time or an age such as 30m, 6h, 7d; got ${JSON.stringify(text)}`);
  return text;
}

export function renderHistory(lines: PortHistoryEntry[], now: number, p: Paint): string {
  if (lines.length === 0) return p.dim('no history matches');
  const rows = lines.map((h) => [
    h.time.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
    formatAge(h.time, now),
    safe(h.action),
    h.previous !== undefined ? `${h.previous} -> ${h.port}` : String(h.port),
    safe(h.service ?? '-'),
    safe(h.by),
  ]);
  return table(['TIME', 'AGE', 'ACTION', 'PORT', 'SERVICE', 'BY'], rows, ['left', 'right']);
}
