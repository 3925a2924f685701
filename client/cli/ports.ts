// Verbs about ports: allocate, release, check, reserve, suggest, ports.
import { LIMITS, PORT_STATES } from '../protocol.ts';
import { int, oneOf, port, protocol, PROTOCOL_OPTION, RANGE_OPTION, str, UsageError, type Verb } from './args.ts';
import { renderCheck, renderPorts } from './render.ts';
import { show } from './show.ts';

const TTL = { type: 'string', value: 'SEC', help: 'lease: give the port back after SEC seconds' } as const;

export const allocate: Verb = {
  name: 'allocate',
  args: '<service>',
  summary: 'allocate a port for a service (registering it if new) and print the port',
  details: 'Prints only the port number, so `PORT=$(portmand allocate web)` works.\nThe same service asking again gets the same port back.',
  options: {
    preferred: { type: 'string', value: 'N', help: 'try this port first' },
    range: RANGE_OPTION,
    protocol: PROTOCOL_OPTION,
    ttl: TTL,
  },
  positionals: { min: 1, max: 1 },
  async run(ctx) {
    const v = ctx.values;
    const r = await ctx.client().port.allocate({
      service: ctx.positionals[0] as string,
      preferred: v.preferred === undefined ? undefined : port(v.preferred, '--preferred'),
      range: str(v.range),
      protocol: protocol(v),
      ttlSec: int(v.ttl, '--ttl', 1, LIMITS.ttlSec, true),
    });
    show(ctx, r, (safe) => String(safe.port));
  },
};

export const release: Verb = {
  name: 'release',
  args: '<port>',
  summary: 'release an allocated port',
  options: { service: { type: 'string', value: 'S', help: 'only if this service holds it' }, protocol: PROTOCOL_OPTION },
  positionals: { min: 1, max: 1 },
  async run(ctx) {
    const p = port(ctx.positionals[0], '<port>');
    const proto = protocol(ctx.values);
    const r = await ctx.client().port.release({ port: p, protocol: proto, service: str(ctx.values.service) });
    const what = `${r.port}/${proto ?? 'tcp'}`;
    show(ctx, r, (safe) =>
      safe.released
        ? `released ${what}${safe.unregistered?.length ? ` (unregistered ${safe.unregistered.join(', ')})` : ''}`
        : `nothing released: ${what}: ${safe.reason ?? 'it was not held'}`,
    );
  },
};

export const check: Verb = {
  name: 'check',
  args: '<port>',
  summary: 'say whether a port is available (exit 0 either way; with -q, exit 1 when it is not)',
  details: 'For scripts: `if portmand check -q 3000; then ...` runs the branch only when 3000 is free.',
  options: {
    protocol: PROTOCOL_OPTION,
    host: { type: 'string', value: 'H', help: 'address to check (default: all)' },
    quiet: { type: 'boolean', short: 'q', help: 'print nothing; exit 0 when available, 1 when not' },
  },
  positionals: { min: 1, max: 1 },
  async run(ctx) {
    const proto = protocol(ctx.values);
    const r = await ctx.client().port.check({ port: port(ctx.positionals[0], '<port>'), protocol: proto, host: str(ctx.values.host) });
    if (ctx.values.quiet) return r.available ? 0 : 1;
    show(ctx, r, (safe, p) => renderCheck(safe, proto ?? 'tcp', p));
  },
};

export const reserve: Verb = {
  name: 'reserve',
  args: '<port>',
  summary: 'reserve a port so that it is never allocated',
  options: {
    for: { type: 'string', value: 'S', help: 'the service it is kept for' },
    reason: { type: 'string', value: 'TEXT', help: `why, for the next person (at most ${LIMITS.reasonChars} characters)` },
    ttl: { type: 'string', value: 'SEC', help: 'end the reservation after SEC seconds' },
    protocol: PROTOCOL_OPTION,
  },
  positionals: { min: 1, max: 1 },
  async run(ctx) {
    const v = ctx.values;
    const r = await ctx.client().port.reserve({
      port: port(ctx.positionals[0], '<port>'),
      protocol: protocol(v),
      for: str(v.for),
      reason: reason(v.reason),
      ttlSec: int(v.ttl, '--ttl', 1, LIMITS.ttlSec, true),
    });
    show(ctx, r, (safe) => {
      const parts = [`reserved ${safe.port}/${safe.protocol}`];
      if (safe.reservedFor) parts.push(`for ${safe.reservedFor}`);
      if (safe.reason) parts.push(`(${safe.reason})`);
      if (safe.expiresAt) parts.push(`until ${safe.expiresAt}`);
      return parts.join(' ');
    });
  },
};

// The daemon checks the length too (and refuses control characters); checking here exits 2 before connecting.
function reason(value: string | boolean | string[] | undefined): string | undefined {
  const text = str(value);
  if (text === undefined) return undefined;
  if (text.length > LIMITS.reasonChars)
    throw new UsageError(`--reason must be at most ${LIMITS.reasonChars} characters, got ${text.length}`);
  return text;
}

export const suggest: Verb = {
  name: 'suggest',
  summary: 'print free ports, one a line, without allocating them',
  options: {
    count: { type: 'string', value: 'N', help: `how many, 1 to ${LIMITS.suggestCount} (default ${LIMITS.suggestCountDefault})` },
    range: RANGE_OPTION,
    near: { type: 'string', value: 'N', help: 'prefer ports close to N' },
    protocol: PROTOCOL_OPTION,
  },
  positionals: { min: 0, max: 0 },
  async run(ctx) {
    const v = ctx.values;
    const r = await ctx.client().port.suggest({
      count: int(v.count, '--count', 1, LIMITS.suggestCount, true),
      range: str(v.range),
      near: v.near === undefined ? undefined : port(v.near, '--near'),
      protocol: protocol(v),
    });
    show(ctx, r, (safe) => safe.ports.join('\n'));
  },
};

export const ports: Verb = {
  name: 'ports',
  summary: 'list assigned, reserved and listening ports with their process',
  options: {
    state: { type: 'string', value: 'S', help: 'only assigned, reserved, listening or free' },
    range: RANGE_OPTION,
  },
  positionals: { min: 0, max: 0 },
  async run(ctx) {
    const state = oneOf(ctx.values.state, '--state', PORT_STATES);
    const r = await ctx.client().port.list({ state, range: str(ctx.values.range) });
    show(ctx, r, (safe, p) => renderPorts(safe, ctx.io.now(), p));
  },
};
