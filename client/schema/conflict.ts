// conflict.* params.
import { Type } from '@sinclair/typebox';
import { LIMITS, STRATEGIES } from '../protocol.ts';
import { Enum, Int, NoParams, Params, Port, ServiceRef, Text, Time, Token } from './common.ts';

export const ResolveParams = Params({
  service: Type.Optional(ServiceRef({ description: 'required unless conflictId is given' })),
  conflictId: Type.Optional(Text(128)),
  strategy: Enum(STRATEGIES),
  newPort: Type.Optional(Port({ description: 'required for strategy manual' })),
  withService: Type.Optional(ServiceRef({ description: 'required for strategy swap' })),
  token: Type.Optional(Token()),
});

export const conflictParams = {
  'conflict.list': Params({ open: Type.Optional(Type.Boolean({ default: true })) }),
  'conflict.detect': NoParams(),
  'conflict.resolve': ResolveParams,
  'conflict.history': Params({
    limit: Type.Optional(Int(1, LIMITS.historyLimit, { default: LIMITS.historyDefault })),
    since: Type.Optional(Time('an ISO-8601 date or time')),
  }),
  'conflict.plan': NoParams(),
};
