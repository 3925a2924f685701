// What each mutating method acts on, read from its params the way its route
// reads them (the same validators, so a value the route would take is the
// value checked here), with what was recorded about who may act on it.
import type { MethodName } from '../../client/protocol.ts';
import type { Target } from '../core/access.ts';
import { expired } from '../core/lifecycle.ts';
import type { PortIndex } from '../core/portindex.ts';
import { planResolution } from '../core/resolve.ts';
import { readResolveRequest } from '../rpc/conflict-routes.ts';
import { portKey, type State } from '../core/state.ts';
import * as v from '../rpc/validate.ts';

export interface View {
  state: State;
  index: PortIndex;
  now: number;
}

export interface Rule {
  /** The existing services and reservations the call would change. */
  targets(params: v.Params, view: View): Target[];
  /** For a call that may create a record: whether the record now carries `tokenHash` (this call made it). */
  created?(params: v.Params, state: State, tokenHash: string): boolean;
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

const byName = (field: string): Rule => ({ targets: (p, { state }) => service(state, v.reqString(p, field)) });

const serviceCreated = (field: string) => (p: v.Params, state: State, hash: string) =>
  state.services[v.reqString(p, field)]?.tokenHash === hash;

export const RULES: Partial<Record<MethodName, Rule>> = {
  'service.register': {
    targets: (p, { state }) => service(state, v.reqString(p, 'name', v.SERVICE_NAME)),
    created: serviceCreated('name'),
  },
  'service.setPort': byName('name'),
  'service.unregister': byName('name'),
  'service.restart': byName('name'),
  'token.rotate': { ...byName('service'), ownerOnly: true },
  'port.allocate': {
    // A lease that ran out is the next caller's to take: only a live one is someone's.
    targets: (p, { state, now }) => {
      const name = v.reqString(p, 'service', v.SERVICE_NAME);
      const held = state.services[name];
      return held && !expired(held, now) ? service(state, name) : [];
    },
    created: serviceCreated('service'),
  },
  'port.release': {
    targets: (p, { state, index }) => {
      const port = v.reqPort(p);
      const protocol = v.protocol(p);
      const only = v.optString(p, 'service');
      const holders = index.holdersOf(protocol, port).filter((h) => only === undefined || h === only);
      return [...holders.flatMap((h) => service(state, h)), ...(only === undefined ? reservation(state, protocol, port) : [])];
    },
  },
  'port.reserve': {
    targets: (p, { state }) => reservation(state, v.protocol(p), v.reqPort(p)),
    created: (p, state, hash) => state.reservations[portKey(v.protocol(p), v.reqPort(p))]?.tokenHash === hash,
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
