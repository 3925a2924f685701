// `portmand watch`: one line per event until SIGINT; survives daemon restarts
// because the client reconnects and re-subscribes with the last seq it saw.
// It has no call timeout of its own (it waits for events, however rare), but
// pings the daemon so that a hung or vanished daemon ends it with exit 3.
import type { PortmandClient } from '../client.ts';
import { ConnectionError, DaemonTimeoutError } from '../errors.ts';
import { escapeStrings } from './format.ts';
import { EVENT_TYPES } from '../protocol.ts';
import { eventTypes, type Verb } from './args.ts';
import { renderEvent } from './render.ts';
import { terminalPaint } from './show.ts';

export const watch: Verb = {
  name: 'watch',
  summary: 'print events live, one line each (with --json: NDJSON of the raw events)',
  details:
    'Runs until Ctrl-C. If the daemon restarts, watch reconnects and replays what it missed.\n' +
    'It pings the daemon and exits 3 when a ping gets no answer within --timeout, or when the\n' +
    'daemon stays gone that long (--timeout 0: wait forever).',
  options: { types: { type: 'string', value: 'a,b', help: 'only these event types (default: all)' } },
  positionals: { min: 0, max: 0 },
  async run(ctx) {
    const types = eventTypes(ctx.values.types);
    const p = terminalPaint(ctx);
    const pm = ctx.client({
      onConnectionState: (state) =>
        ctx.io.err(state === 'disconnected' ? `portmand: lost the daemon at ${ctx.socketPath}; reconnecting` : 'portmand: reconnected'),
    });
    pm.on('*', (e) => ctx.io.out(ctx.json ? JSON.stringify(e) : renderEvent(escapeStrings(e), p)));
    const r = await pm.events.subscribe(types ? { types } : {});
    // On stderr even with --json: stdout stays pure NDJSON, and a script can wait for this line.
    ctx.io.err(p.dim(`watching ${r.subscribed.length === EVENT_TYPES.length ? 'all events' : r.subscribed.join(', ')}; Ctrl-C to stop`));
    const dog = ctx.timeoutMs > 0 ? watchdog(pm, ctx.timeoutMs, ctx.socketPath) : null;
    try {
      const dead = await Promise.race([ctx.io.untilStopped().then(() => null), dog?.dead ?? new Promise<never>(() => {})]);
      if (dead !== null) throw new ConnectionError(dead, ctx.socketPath);
    } finally {
      dog?.stop();
    }
  },
};

/** The most time between two pings; a short --timeout pings more often. */
const PING_EVERY_MS = 10_000;

/**
 * Pings the daemon until stopped. `dead` resolves with what to tell the user
 * when a ping got no answer within `timeoutMs` (hung), or when no ping has
 * reached the daemon for `timeoutMs` (gone, and not restarted).
 */
function watchdog(pm: PortmandClient, timeoutMs: number, socketPath: string): { dead: Promise<string>; stop(): void } {
  const period = Math.min(timeoutMs / 2, PING_EVERY_MS);
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const dead = new Promise<string>((resolve) => {
    let failingSince: number | null = null;
    const tick = async () => {
      try {
        await pm.daemon.ping();
        failingSince = null;
      } catch (err) {
        if (stopped) return;
        if (err instanceof DaemonTimeoutError) return resolve(err.message);
        if (!(err instanceof ConnectionError))
          failingSince = null; // it answered, if only with an error
        else if (Date.now() - (failingSince ??= Date.now()) >= timeoutMs) {
          return resolve(
            `portmand: the daemon at ${socketPath} has been gone for ${timeoutMs / 1000} s; stopping. ` +
              'Start it again (`portmand daemon`, or its systemd/launchd unit) and rerun watch.',
          );
        }
      }
      if (!stopped) timer = setTimeout(tick, period);
    };
    timer = setTimeout(tick, period);
  });
  return {
    dead,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
