// `portmand watch`: one line per event until SIGINT; survives daemon restarts
// because the client reconnects and re-subscribes with the last seq it saw.
import { escapeStrings } from './format.ts';
import { EVENT_TYPES } from '../protocol.ts';
import { eventTypes, type Verb } from './args.ts';
import { renderEvent } from './render.ts';
import { terminalPaint } from './show.ts';

export const watch: Verb = {
  name: 'watch',
  summary: 'print events live, one line each (with --json: NDJSON of the raw events)',
  details: 'Runs until Ctrl-C. If the daemon restarts, watch reconnects and replays what it missed.',
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
    await ctx.io.untilStopped();
  },
};
