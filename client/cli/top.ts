// `portmand top`: a full-screen live view, driven by the daemon's pushed
// events (no polling): the screen is drawn from a model (top-view.ts) that
// each event updates. Written in-house: an alternate screen, raw keys and a
// redraw of changed frames is less code than adapting a screen library.
// The terminal is restored on quit, SIGINT/SIGTERM and on a crash. When
// stdout is not a terminal it prints one snapshot and exits.
import type { PortmandClient } from '../client.ts';
import type { PortmandEvent } from '../protocol.ts';
import type { Context, Verb } from './args.ts';
import { paint } from './format.ts';
import { emptyModel, applyEvent, renderTop, SORTS, STATUS_FILTERS, tagsInUse, visibleServices, type TopModel } from './top-view.ts';

const ENTER_ALT = '\x1b[?1049h\x1b[?25l';
const LEAVE_ALT = '\x1b[?25h\x1b[?1049l';
/** Services whose uptime sparkline is fetched at start (the rest show none). */
const UPTIME_FETCH_LIMIT = 200;
/** Events that change port use: the range bars are fetched again (once per burst). */
const RANGE_EVENTS = new Set(['service_registered', 'service_unregistered', 'port_assigned', 'port_released']);

export const top: Verb = {
  name: 'top',
  summary: 'full-screen live view of services, conflicts, ranges and events (q to quit)',
  details: [
    'Keys: s sort (name, port, status, latency), f filter by status, t filter by tag,',
    'up/down (or j/k) select, enter show one service, esc back, q or Ctrl-C quit.',
    'When stdout is not a terminal (or with --json) it prints one snapshot and exits.',
  ].join('\n'),
  options: {},
  positionals: { min: 0, max: 0 },
  async run(ctx) {
    const tty = process.stdout.isTTY === true && process.stdin.isTTY === true;
    const model = emptyModel();
    if (!tty || ctx.json) {
      const pm = ctx.client();
      await load(pm, model, ctx.io.now());
      if (ctx.json) ctx.io.out(JSON.stringify(snapshot(model), null, 2));
      else ctx.io.out(renderTop(model, { columns: 120, rows: 1000 }, paint(false), ctx.io.now(), false).join('\n'));
      return;
    }
    return live(ctx, model);
  },
};

async function load(pm: PortmandClient, m: TopModel, now: number): Promise<void> {
  const [services, conflicts, ports, health] = await Promise.all([
    pm.service.list(),
    pm.conflict.list({ open: true }),
    pm.stats.ports(),
    pm.health.list(),
  ]);
  m.services = new Map(services.map((s) => [s.name, s]));
  m.conflicts = new Map(conflicts.map((c) => [c.id, c]));
  m.ranges = ports.ranges;
  m.health = new Map(health.map((h) => [h.service, h]));
  // One series request per service: enough for a screenful, not one per allocation of a test farm.
  const first = services
    .map((s) => s.name)
    .sort()
    .slice(0, UPTIME_FETCH_LIMIT);
  await Promise.all(first.map((name) => loadUptime(pm, m, name, now)));
}

async function loadUptime(pm: PortmandClient, m: TopModel, service: string, now: number): Promise<void> {
  const from = new Date(Math.floor(now / 3_600_000) * 3_600_000 - 24 * 3_600_000).toISOString();
  const r = await pm.stats.series({ metric: 'service.up', service, from, step: 3600 }).catch(() => null);
  if (r)
    m.uptime.set(
      service,
      r.points.map(([, v]) => v),
    );
}

function snapshot(m: TopModel) {
  return { services: [...m.services.values()], conflicts: [...m.conflicts.values()], ranges: m.ranges, health: [...m.health.values()] };
}

async function live(ctx: Context, model: TopModel): Promise<number> {
  const out = process.stdout;
  const stdin = process.stdin;
  const p = paint(ctx.io.color);
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    if (stdin.isTTY) stdin.setRawMode(false);
    stdin.pause();
    out.write(LEAVE_ALT);
  };
  // A crash must not leave the terminal raw and the cursor hidden.
  const onCrash = (err: unknown) => {
    restore();
    process.stderr.write(`portmand top: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  };
  process.once('uncaughtException', onCrash);
  process.once('unhandledRejection', onCrash);
  process.once('exit', restore);

  const pm = ctx.client({
    onConnectionState: (state) => {
      model.connected = state === 'connected';
      if (model.connected) void load(pm, model, ctx.io.now()).then(draw, () => undefined);
      draw();
    },
  });
  let last = '';
  const draw = () => {
    if (restored) return;
    const frame = renderTop(model, { columns: out.columns ?? 80, rows: out.rows ?? 24 }, p, ctx.io.now());
    const text = `\x1b[H${frame.join('\x1b[K\n')}\x1b[K\x1b[J`;
    if (text === last) return;
    last = text;
    out.write(text);
  };

  let rangesDue: NodeJS.Timeout | null = null;
  pm.on('*', (e: PortmandEvent) => {
    applyEvent(model, e);
    if (e.type === 'service_registered') void loadUptime(pm, model, (e.data as { name: string }).name, ctx.io.now()).then(draw);
    if (RANGE_EVENTS.has(e.type) && !rangesDue) {
      rangesDue = setTimeout(() => {
        rangesDue = null;
        pm.stats.ports().then(
          (r) => ((model.ranges = r.ranges), draw()),
          () => undefined,
        );
      }, 100);
    }
    draw();
  });

  try {
    await pm.events.subscribe();
    await load(pm, model, ctx.io.now());
  } catch (err) {
    restore();
    throw err;
  }
  out.write(ENTER_ALT);
  stdin.setRawMode(true);
  stdin.resume();
  out.on('resize', () => ((last = ''), draw()));
  draw();

  await new Promise<void>((resolve) => {
    const quit = () => resolve();
    process.once('SIGINT', quit);
    process.once('SIGTERM', quit);
    process.once('SIGHUP', quit);
    stdin.on('data', (buf: Buffer) => {
      for (const key of splitKeys(buf.toString('utf8'))) if (onKey(model, key)) return quit();
      draw();
    });
  });
  if (rangesDue) clearTimeout(rangesDue);
  restore();
  process.off('uncaughtException', onCrash);
  process.off('unhandledRejection', onCrash);
  return 0;
}

/** One read may hold several key presses (a paste, a fast typist, tmux send-keys): arrows are three bytes. */
export function splitKeys(input: string): string[] {
  return input.match(/\x1b\[[0-9;]*[A-Za-z~]|[\s\S]/gu) ?? [];
}

/** Applies one key press to the model; true means quit. */
export function onKey(m: TopModel, key: string): boolean {
  const cycle = <T>(values: readonly T[], current: T): T => values[(values.indexOf(current) + 1) % values.length]!;
  const list = visibleServices(m);
  switch (key) {
    case 'q':
    case '\x03': // Ctrl-C: in raw mode it is a key, not a signal
      return true;
    case 's':
      m.sort = cycle(SORTS, m.sort);
      break;
    case 'f':
      m.status = cycle(STATUS_FILTERS, m.status);
      m.selected = 0;
      break;
    case 't':
      m.tag = cycle<string | null>([null, ...tagsInUse(m)], m.tag);
      m.selected = 0;
      break;
    case 'j':
    case '\x1b[B':
      m.selected = Math.min(m.selected + 1, Math.max(0, list.length - 1));
      break;
    case 'k':
    case '\x1b[A':
      m.selected = Math.max(0, m.selected - 1);
      break;
    case '\r':
    case '\n':
      if (list.length > 0) m.detail = list[Math.min(m.selected, list.length - 1)]!.name;
      break;
    case '\x1b':
    case 'b':
      m.detail = null;
      break;
    default:
      break;
  }
  return false;
}
