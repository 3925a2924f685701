// service.* params, with the health check and restart action a service carries.
import { Type } from '@sinclair/typebox';
import { LIMITS, PORT_CHANGE_POLICIES, RESTART_SIGNALS, SERVICE_STATUSES } from '../protocol.ts';
import { CONTROL_CLASS, Enum, Host, HttpUrl, Int, Params, Pid, Port, Protocol, ServiceName, ServiceRef, Text, Token } from './common.ts';

/** What every check may say about how it is judged (defaults: the config's `health`, else 2 and 1). */
const thresholds = {
  failuresBeforeUnhealthy: Type.Optional(
    Int(1, LIMITS.healthThreshold, { description: 'consecutive failed checks before the service is unhealthy' }),
  ),
  successesBeforeHealthy: Type.Optional(
    Int(1, LIMITS.healthThreshold, { description: 'consecutive passed checks before it is healthy again' }),
  ),
  restartAfterFailures: Type.Optional(
    Int(1, LIMITS.healthThreshold, {
      description: "extension: run the service's restart action after this many consecutive failed checks",
    }),
  ),
};
const timing = {
  intervalSec: Type.Optional(Int(1, 86_400)),
  timeoutMs: Type.Optional(Int(1, LIMITS.healthTimeoutMs)),
};

export const HttpCheck = Type.Object(
  {
    type: Type.Literal('http'),
    url: HttpUrl(),
    ...timing,
    expectStatus: Type.Optional(Text(200, { description: 'e.g. "200-399" (the default), "200", "200,204"' })),
    ...thresholds,
  },
  { additionalProperties: false },
);
export const TcpCheck = Type.Object({ type: Type.Literal('tcp'), ...timing, ...thresholds }, { additionalProperties: false });
const CHECK_PROBLEM = 'must be an object { type: "http", url } or { type: "tcp" }';
export const HealthCheck = Type.Union([HttpCheck, TcpCheck], { problem: CHECK_PROBLEM });

/** Names of variables a restart command gets: plain names, not those portmand sets itself. */
const ENV_NAME = '^(?!(PORT|PORTMAND_PORT|PORTMAND_SERVICE|PORTMAND_PREVIOUS_PORT)$)[A-Za-z_][A-Za-z0-9_]{0,127}$';

export const SignalAction = Type.Object({ signal: Enum(RESTART_SIGNALS) }, { additionalProperties: false });
export const CommandAction = Type.Object(
  {
    command: Type.Array(Text(LIMITS.argChars), {
      minItems: 1,
      maxItems: LIMITS.restartArgs,
      problem: 'must be a non-empty array of strings: the program and its arguments (no shell)',
    }),
    cwd: Type.Optional(
      Type.String({
        maxLength: LIMITS.pathChars,
        pattern: `^/[^${CONTROL_CLASS}]*$`,
        problem: `must be an absolute path of at most ${LIMITS.pathChars} characters`,
      }),
    ),
    env: Type.Optional(
      Type.Record(Type.String({ pattern: ENV_NAME }), Text(LIMITS.argChars), {
        additionalProperties: false,
        maxProperties: LIMITS.restartEnvVars,
        problem: 'names must be letters, digits and _, not starting with a digit, and not one portmand sets (PORT, PORTMAND_*)',
      }),
    ),
    timeoutSec: Type.Optional(Int(1, LIMITS.restartTimeoutSec, { default: LIMITS.restartTimeoutDefaultSec })),
  },
  { additionalProperties: false },
);
const RESTART_PROBLEM = 'must be an object { command: [argv], cwd?, env?, timeoutSec? } or { signal }';
/** How a service is restarted: a command run without a shell, or a signal sent to its pid. */
export const RestartAction = Type.Union([SignalAction, CommandAction], { problem: RESTART_PROBLEM });

const TAG = `^[\\w.:/-]{1,${LIMITS.tagChars}}$`;

export const RegisterParams = Params({
  name: ServiceName(),
  port: Type.Optional(Port()),
  protocol: Type.Optional(Protocol()),
  host: Type.Optional(Host()),
  pid: Type.Optional(Pid()),
  process: Type.Optional(Text(LIMITS.processChars)),
  healthCheck: Type.Optional(
    Type.Union([HttpCheck, TcpCheck, Type.Null()], {
      problem: CHECK_PROBLEM,
      description: "omitted keeps the service's check on an update; null removes it (extension)",
    }),
  ),
  tags: Type.Optional(
    Type.Array(Type.String({ pattern: TAG, problem: `must be 1-${LIMITS.tagChars} characters of letters, digits, . _ : / -` }), {
      maxItems: LIMITS.tags,
    }),
  ),
  range: Type.Optional(Text(64, { description: 'a configured range name, or START-END' })),
  exclusive: Type.Optional(Type.Boolean()),
  restart: Type.Optional(
    Type.Union([SignalAction, CommandAction, Type.Null()], {
      problem: RESTART_PROBLEM,
      description: "omitted keeps the service's action on an update; null removes it",
    }),
  ),
  onPortChange: Type.Optional(Enum(PORT_CHANGE_POLICIES, { description: 'notify when omitted' })),
  autoResolve: Type.Optional(Type.Boolean({ description: "extension: the daemon may resolve this service's conflicts itself" })),
  token: Type.Optional(Token()),
});

const byName = () => Params({ name: ServiceRef(), token: Type.Optional(Token()) });

export const serviceParams = {
  'service.register': RegisterParams,
  'service.list': Params({ status: Type.Optional(Enum(SERVICE_STATUSES)), tag: Type.Optional(Text(LIMITS.tagChars)) }),
  'service.get': Params({ name: ServiceRef() }),
  'service.setPort': Params({ name: ServiceRef(), port: Port(), token: Type.Optional(Token()) }),
  'service.unregister': byName(),
  'service.restart': byName(),
};
