// What each mutating method acts on, read from its params (already checked
// against the method's schema: the params layer runs before this one), with
// what was recorded about who may act on it.
import type { MethodName, ParamsOf } from '../../client/protocol.ts';
import type { Target } from '../core/access.ts';
import { expired } from '../core/lifecycle.ts';
import type { PortIndex } from '../core/portindex.ts';
import { planResolution } from '../core/resolve.ts';
import { readResolveRequest } from '../core/resolve-request.ts';
import { portKey, type State } from '../core/state.ts';

export interface View {
  state: State;
  index: PortIndex;
  now: number;
}

export interface Rule<M extends MethodName = MethodName> {
  /** The existing services and reservations the call would change. */
  targets(params: ParamsOf<M>, view: View): Target[];
  /** For a call that may create a record: whether the record now carries `tokenHash` (this call made it). */
  created?(params: ParamsOf<M>, state: State, tokenHash: string): boolean;
  /** Only the owner or an admin: a token does not do (token.rotate). */
  ownerOnly?: true;
}

function service(state: State, name: string): Target[] {
  const s = state.services[name];
  return s
    ? [{ kind: 'service', name, ...(s.owner && { owner: s.owner }), ...(s.tokenHash !== undefined && { tokenHash: s.tokenHash }) }]
    : [];
}

function reservation(state: State, protocol: 'tcp' | 'udp', port: number): Target[] {
  const r = state.reservations[portKey(protocol, port)];
  return r
    ? [{ kind: 'reservation', port, ...(r.owner && { owner: r.owner }), ...(r.tokenHash !== undefined && { tokenHash: r.tokenHash }) }]
    : [];
}

const byName: Rule<'service.setPort' | 'service.unregister' | 'service.restart'> = { targets: (p, { state }) => service(state, p.name) };

export const RULES: { [M in MethodName]?: Rule<M> } = {
  'service.register': {
    targets: (p, { state }) => service(state, p.name),
    created: (p, state, hash) => state.services[p.name]?.tokenHash === hash,
  },
  'service.setPort': byName,
  'service.unregister': byName,
  'service.restart': byName,
  'token.rotate': { targets: (p, { state }) => service(state, p.service), ownerOnly: true },
  'port.allocate': {
    // A lease that ran out is the next caller's to take: only a live one is someone's.
    targets: (p, { state, now }) => {
      const held = state.services[p.service];
      return held && !expired(held, now) ? service(state, p.service) : [];
    },
    created: (p, state, hash) => state.services[p.service]?.tokenHash === hash,
  },
  'port.release': {
    targets: (p, { state, index }) => {
      const { port, service: only } = p;
      const protocol = p.protocol ?? 'tcp';
      const holders = index.holdersOf(protocol, port).filter((h) => only === undefined || h === only);
      return [...holders.flatMap((h) => service(state, h)), ...(only === undefined ? reservation(state, protocol, port) : [])];
    },
  },
  'port.reserve': {
    targets: (p, { state }) => reservation(state, p.protocol ?? 'tcp', p.port),
    created: (p, state, hash) => state.reservations[portKey(p.protocol ?? 'tcp', p.port)]?.tokenHash === hash,
  },
  'conflict.resolve': {
    // Whatever the resolution would move: the service, both of a swap, or the reservation acknowledged.
    targets: (p, { state }) => {
      const plan = planResolution(state, readResolveRequest(p, ''));
      if (!plan.service) return plan.conflict ? reservation(state, plan.conflict.protocol, plan.conflict.port) : [];
      return [...service(state, plan.service.name), ...(plan.other ? service(state, plan.other.name) : [])];
    },
  },
};
