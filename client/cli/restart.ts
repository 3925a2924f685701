// `portmand restart <service>`.
import type { Verb } from './args.ts';

/** `portmand restart <service>`: runs the service's restart action now (service.restart). */
export const restart: Verb = {
  name: 'restart',
  args: '<service>',
  summary: "run a service's restart action now; exits 1 when it did not restart",
  options: {},
  positionals: { min: 1, max: 1 },
  async run(ctx) {
    const r = await ctx.client().service.restart({ name: ctx.positionals[0]! });
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
