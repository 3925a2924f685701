// `portmand restart <service>`.
import { PortmandClient } from '../client.ts';
import { PortmandError } from '../errors.ts';
import { LIMITS, type Service } from '../protocol.ts';
import type { Verb } from './args.ts';

/** Beyond the action's own limit: the daemon's answer, a command's output drained after it exits, a slow socket. */
const RESTART_MARGIN_MS = 15_000;

/** `portmand restart <service>`: runs the service's restart action now (service.restart). */
export const restart: Verb = {
  name: 'restart',
  args: '<service>',
  summary: "run a service's restart action now; exits 1 when it did not restart",
  details:
    'Without --timeout it waits as long as the action may take (twice its timeoutSec, for a run already in flight, plus a margin), not the usual 60 s.',
  options: {},
  positionals: { min: 1, max: 1 },
  async run(ctx) {
    const name = ctx.positionals[0]!;
    const pm = ctx.client();
    // --timeout given wins; else the call may take as long as the action itself.
    const waitMs = ctx.values.timeout === undefined ? await restartWaitMs(pm, name, ctx.timeoutMs) : ctx.timeoutMs;
    const patient = waitMs === ctx.timeoutMs ? null : new PortmandClient({ socketPath: ctx.socketPath, sendPid: false, timeoutMs: waitMs });
    let r;
    try {
      r = await (patient ?? pm).service.restart({ name });
    } finally {
      patient?.close();
    }
    if (ctx.json) ctx.io.out(JSON.stringify(r, null, 2));
    else
      ctx.io.out(
        r.restarted
          ? `restarted ${r.name}${r.exitCode !== undefined ? ` (exit code ${r.exitCode})` : ''}`
          : `${r.name} not restarted: ${r.error ?? 'unknown reason'}`,
      );
    return r.restarted ? 0 : 1;
  },
};

/**
 * How long service.restart may take for this service: a command may run for
 * its timeoutSec, and a request that comes while a run is in flight waits for
 * that run and then its own (daemon/act/restarter.ts), so twice that plus a
 * margin; never less than `atLeastMs`. An unknown service keeps `atLeastMs`:
 * the restart call itself then says what is wrong.
 */
export async function restartWaitMs(pm: PortmandClient, name: string, atLeastMs: number): Promise<number> {
  if (atLeastMs === 0) return 0; // --timeout's default can only be 0 when asked for; 0 waits forever
  let service: Service;
  try {
    service = await pm.service.get({ name });
  } catch (err) {
    if (err instanceof PortmandError) return atLeastMs;
    throw err;
  }
  return Math.max(atLeastMs, actionWaitMs(service.restart));
}

/** The longest a restart action may run twice over (see restartWaitMs), plus the margin; 0 without a command. */
export function actionWaitMs(action: Service['restart']): number {
  if (!action || !('command' in action)) return 0;
  const sec = action.timeoutSec ?? LIMITS.restartTimeoutDefaultSec;
  return 2 * sec * 1000 + RESTART_MARGIN_MS;
}
