// daemon.*, events.*, auth.*, token.rotate and rpc.discover params.
import { Type } from '@sinclair/typebox';
import { EVENT_TYPES } from '../protocol.ts';
import { Enum, Int, NoParams, Params, ServiceRef, Text, Token } from './common.ts';

const EventTypes = () => Type.Array(Enum(EVENT_TYPES), { description: 'every type when omitted' });

export const daemonParams = {
  'daemon.status': NoParams(),
  'daemon.ping': NoParams(),
  'daemon.config': NoParams(),
  'events.subscribe': Params({
    types: Type.Optional(EventTypes()),
    sinceSeq: Type.Optional(Int(0, Number.MAX_SAFE_INTEGER, { description: 'extension: replay the events after this seq' })),
  }),
  'events.unsubscribe': Params({ types: Type.Optional(EventTypes()) }),
  'auth.whoami': NoParams(),
  'auth.challenge': Params({ uid: Int(0, 2 ** 32 - 2, { description: 'the uid the caller claims' }) }),
  'auth.prove': Params({ response: Text(128) }),
  'token.rotate': Params({ service: ServiceRef(), token: Type.Optional(Token()) }),
  'rpc.discover': NoParams(),
};
