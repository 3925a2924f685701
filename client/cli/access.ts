// `portmand whoami` and `portmand token rotate <service>`: who the daemon
// takes you for, and replacing a service's token.
import { UsageError, type Verb } from './args.ts';
import { show } from './show.ts';

export const whoami: Verb = {
  name: 'whoami',
  summary: 'who the daemon takes you for (uid, user, admin) and how it knows',
  options: {},
  positionals: { min: 0, max: 0 },
  async run(ctx) {
    const me = await ctx.client().auth.whoami();
    show(ctx, me, (w, p) => {
      const name = w.user !== undefined ? `${w.user} (uid ${w.uid})` : `uid ${w.uid}`;
      const how = {
        'private-socket': "the socket is the daemon user's own",
        peer: 'the kernel says so',
        challenge: 'proved by a file only you can read',
      }[w.via ?? 'peer'];
      return `${p.bold(name)}${w.admin ? ', admin' : ''}${w.pid !== undefined ? `, pid ${w.pid}` : ''}\n  ${how}`;
    });
  },
};

export const token: Verb = {
  name: 'token',
  args: 'rotate <service>',
  summary: "replace a service's token (owner or admin); the new one is shown once",
  details: 'Give the token to whoever should act for the service (a CI job): they pass it as `token`.',
  options: {},
  positionals: { min: 2, max: 2 },
  async run(ctx) {
    const [action, name] = ctx.positionals as [string, string];
    if (action !== 'rotate') {
      const e = new UsageError(`token: unknown action "${action}" (expected: rotate)`);
      e.verb = 'token';
      throw e;
    }
    const r = await ctx.client().token.rotate({ service: name });
    show(ctx, r, (s) => s.token);
  },
};
