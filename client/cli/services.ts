// Verbs about services: status, list, register, unregister.
import { LIMITS, SERVICE_STATUSES, type RegisterParams } from '../protocol.ts';
import { oneOf, port, protocol, PROTOCOL_OPTION, str, UsageError, type Values, type Verb } from './args.ts';
import { renderConflictLine, renderServices, renderStatus } from './render.ts';
import { show } from './show.ts';

/** Says which socket `status` talks to, and why that one. */
const SOCKET_NOTES = {
  flag: 'from --socket',
  env: 'from $PORTMAND_SOCKET',
  user: 'per-user daemon',
  system: 'system daemon',
} as const;

export const status: Verb = {
  name: 'status',
  summary: 'show the daemon (version, pid, uptime, socket, last scan, conflicts) and its services',
  options: {},
  positionals: { min: 0, max: 0 },
  async run(ctx) {
    const pm = ctx.client();
    const [daemon, services] = await Promise.all([pm.daemon.status(), pm.service.list()]);
    const via = ctx.socketSource && { socket: ctx.socketPath, source: ctx.socketSource };
    show(ctx, { daemon, services, ...(via && { client: via }) }, (safe, p) =>
      renderStatus(safe.daemon, safe.services, ctx.io.now(), p, via && SOCKET_NOTES[via.source]),
    );
  },
};

export const list: Verb = {
  name: 'list',
  summary: 'list registered services',
  options: {
    status: { type: 'string', value: 'S', help: `only services with this status (${SERVICE_STATUSES.join(', ')})` },
    tag: { type: 'string', value: 'T', help: 'only services with this tag' },
  },
  positionals: { min: 0, max: 0 },
  async run(ctx) {
    const services = await ctx.client().service.list({
      status: oneOf(ctx.values.status, '--status', SERVICE_STATUSES),
      tag: str(ctx.values.tag),
    });
    show(ctx, services, (safe, p) => renderServices(safe, p, ctx.values.status !== undefined || ctx.values.tag !== undefined));
  },
};

export const register: Verb = {
  name: 'register',
  args: '<name>',
  summary: 'register a service (or update it); without --port the daemon allocates one',
  options: {
    port: { type: 'string', value: 'N', help: 'the port it uses (recorded as is; a clash opens a conflict)' },
    protocol: PROTOCOL_OPTION,
    host: { type: 'string', value: 'H', help: 'bind address (default 0.0.0.0)' },
    'health-url': { type: 'string', value: 'URL', help: 'HTTP health check URL' },
    tag: { type: 'string', multiple: true, value: 'T', help: 'a tag (repeatable)' },
    range: { type: 'string', value: 'R', help: 'range to allocate from when no --port: a name or START-END' },
    exclusive: { type: 'boolean', help: 'fail instead of opening a conflict when the port is held' },
  },
  positionals: { min: 1, max: 1 },
  async run(ctx) {
    const v = ctx.values;
    const url = str(v['health-url']);
    if (url !== undefined && !/^https?:\/\//.test(url)) throw new UsageError('--health-url must start with http:// or https://');
    const params: RegisterParams = {
      name: ctx.positionals[0] as string,
      port: v.port === undefined ? undefined : port(v.port, '--port'),
      protocol: protocol(v),
      host: str(v.host),
      healthCheck: url ? { type: 'http', url } : undefined,
      tags: tags(v.tag),
      range: str(v.range),
      exclusive: v.exclusive === true ? true : undefined,
    };
    const s = await ctx.client().service.register(params);
    show(ctx, s, (safe, p) => {
      const line = `registered ${safe.name} on ${safe.port}/${safe.protocol}`;
      return [line, ...(safe.conflicts ?? []).map((c) => renderConflictLine(c, p))].join('\n');
    });
  },
};

function tags(value: Values[string]): string[] | undefined {
  if (!Array.isArray(value)) return undefined;
  if (value.length > LIMITS.tags) throw new UsageError(`--tag may be given at most ${LIMITS.tags} times`);
  return value;
}

export const unregister: Verb = {
  name: 'unregister',
  args: '<name>',
  summary: 'remove a service and release its ports',
  options: {},
  positionals: { min: 1, max: 1 },
  async run(ctx) {
    const r = await ctx.client().service.unregister({ name: ctx.positionals[0] as string });
    show(ctx, r, (safe) => `unregistered ${safe.name}${safe.releasedPorts.length ? ` (released ${safe.releasedPorts.join(', ')})` : ''}`);
  },
};
