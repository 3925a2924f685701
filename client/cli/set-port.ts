// `portmand set-port <service> <port>`: moves a service to a port of the
// caller's choosing (service.setPort). The daemon refuses a port another
// service holds, one that is reserved or listened on (-32002), and a service
// the caller may not change (-32004, naming its owner).
import { port, type Verb } from './args.ts';
import { show } from './show.ts';

export const setPort: Verb = {
  name: 'set-port',
  args: '<service> <port>',
  summary: 'move a service to another port (its restart action runs when onPortChange is "restart")',
  details: [
    'Exits 1 when the daemon refuses: the port is taken (-32002), the service is unknown (-32001),',
    'or it belongs to another user (-32004, naming the owner).',
  ].join('\n'),
  options: {},
  positionals: { min: 2, max: 2 },
  async run(ctx) {
    const [name, text] = ctx.positionals as [string, string];
    const to = port(text, '<port>');
    const s = await ctx.client().service.setPort({ name, port: to });
    show(ctx, s, (safe) => `${safe.name} is on ${safe.port}/${safe.protocol}`);
  },
};
