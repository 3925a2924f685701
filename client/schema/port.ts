// port.* and range.list params.
import { Type } from '@sinclair/typebox';
import { LIMITS, PORT_STATES } from '../protocol.ts';
import { Enum, Host, Int, NoParams, Params, Pid, Port, Protocol, ServiceName, ServiceRef, Text, Time, Token, TtlSec } from './common.ts';

const Range = () => Text(64, { description: 'a configured range name (see range.list), or START-END' });

export const AllocateParams = Params({
  service: ServiceName(),
  preferred: Type.Optional(Port({ description: 'the port wanted, if free' })),
  range: Type.Optional(Range()),
  protocol: Type.Optional(Protocol()),
  host: Type.Optional(Host()),
  ttlSec: Type.Optional(TtlSec()),
  pid: Type.Optional(Pid()),
  exclude: Type.Optional(
    Type.Array(Port(), {
      maxItems: LIMITS.excludePorts,
      description: "extension: ports that must not be chosen (get-port's exclude)",
    }),
  ),
  token: Type.Optional(Token()),
});

export const portParams = {
  'port.list': Params({
    state: Type.Optional(Enum(PORT_STATES)),
    range: Type.Optional(Range()),
    limit: Type.Optional(
      Int(1, LIMITS.listLimit, {
        description: `extension: at most this many; ${LIMITS.listFreeDefault} for state "free" when omitted, else all`,
      }),
    ),
  }),
  'port.get': Params({ port: Port(), protocol: Type.Optional(Protocol()) }),
  'port.check': Params({ port: Port(), protocol: Type.Optional(Protocol()), host: Type.Optional(Host()) }),
  'port.allocate': AllocateParams,
  'port.release': Params({
    port: Port(),
    protocol: Type.Optional(Protocol()),
    service: Type.Optional(ServiceRef({ description: 'release only this holder of the port' })),
    token: Type.Optional(Token()),
  }),
  'port.suggest': Params({
    count: Type.Optional(Int(1, LIMITS.suggestCount, { default: LIMITS.suggestCountDefault })),
    range: Type.Optional(Range()),
    near: Type.Optional(Port()),
    protocol: Type.Optional(Protocol()),
  }),
  'port.reserve': Params({
    port: Port(),
    protocol: Type.Optional(Protocol()),
    for: Type.Optional(ServiceName({ description: 'the service the port is kept for' })),
    reason: Type.Optional(Text(LIMITS.reasonChars)),
    ttlSec: Type.Optional(TtlSec()),
    token: Type.Optional(Token()),
  }),
  'port.history': Params({
    service: Type.Optional(ServiceName()),
    port: Type.Optional(Port()),
    since: Type.Optional(Time('an ISO-8601 date or time')),
    limit: Type.Optional(Int(1, LIMITS.historyLimit, { default: LIMITS.historyDefault })),
  }),
  'range.list': NoParams(),
};
