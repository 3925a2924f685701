// The restart parameters of service.register: `restart` (a command run
// without a shell, or a signal) and `onPortChange`. Everything in an argv,
// cwd or env is stored and later both executed and printed, so each string is
// bounded and free of control characters, and names are plain variable names.
import {
  ErrorCode,
  LIMITS,
  PORT_CHANGE_POLICIES,
  RESTART_SIGNALS,
  type PortChangePolicy,
  type RestartAction,
  type RestartSignal,
} from '../../client/protocol.ts';
import { isAdmin, ownerOf } from '../core/access.ts';
import { DomainError, invalidParams } from '../core/errors.ts';
import { hasSecrets } from '../core/service-effects.ts';
import type { State } from '../core/state.ts';
import type { Precondition } from '../registry.ts';
import type { App, RpcContext } from './app.ts';
import * as v from './validate.ts';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
/** Set by portmand itself: a service's env may not override them. */
const RESERVED_ENV = new Set(['PORT', 'PORTMAND_PORT', 'PORTMAND_SERVICE', 'PORTMAND_PREVIOUS_PORT']);
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

function isObject(x: unknown): x is v.Params {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function argv(raw: unknown): string[] {
  if (!Array.isArray(raw) || raw.length === 0)
    throw invalidParams('restart.command', 'must be a non-empty array of strings: the program and its arguments (no shell)');
  if (raw.length > LIMITS.restartArgs) throw invalidParams('restart.command', `must have at most ${LIMITS.restartArgs} entries`);
  raw.forEach((a: unknown, i) => {
    if (typeof a !== 'string') throw invalidParams('restart.command', `entry ${i} must be a string`);
    if (a.length > LIMITS.argChars) throw invalidParams('restart.command', `entry ${i} must be at most ${LIMITS.argChars} characters`);
    if (CONTROL.test(a)) throw invalidParams('restart.command', `entry ${i} must not contain control characters`);
  });
  if ((raw[0] as string).length === 0) throw invalidParams('restart.command', 'entry 0 (the program) must not be empty');
  return raw as string[];
}

function env(raw: unknown): Record<string, string> | undefined {
  if (raw === undefined) return undefined;
  if (!isObject(raw)) throw invalidParams('restart.env', 'must be an object of NAME: "value"');
  const entries = Object.entries(raw);
  if (entries.length > LIMITS.restartEnvVars) throw invalidParams('restart.env', `must have at most ${LIMITS.restartEnvVars} variables`);
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [name, value] of entries) {
    if (!ENV_NAME.test(name)) throw invalidParams('restart.env', 'names must be letters, digits and _, not starting with a digit');
    if (RESERVED_ENV.has(name)) throw invalidParams('restart.env', `${name} is set by portmand`);
    if (typeof value !== 'string' || value.length > LIMITS.argChars || CONTROL.test(value)) {
      throw invalidParams(`restart.env.${name}`, `must be a string of at most ${LIMITS.argChars} characters without control characters`);
    }
    out[name] = value;
  }
  return { ...out };
}

/** The `restart` param: undefined keeps the service's action, null removes it. */
export function restartAction(p: v.Params): RestartAction | null | undefined {
  const r = p.restart;
  if (r === undefined || r === null) return r;
  if (!isObject(r)) throw invalidParams('restart', 'must be an object { command: [argv], cwd?, env?, timeoutSec? } or { signal }');
  if ('signal' in r) {
    const extra = Object.keys(r).find((k) => k !== 'signal');
    if (extra !== undefined) throw invalidParams(`restart.${extra}`, 'cannot be combined with signal');
    const signal = r.signal as RestartSignal;
    if (!RESTART_SIGNALS.includes(signal)) throw invalidParams('restart.signal', `must be one of ${RESTART_SIGNALS.join(', ')}`);
    return { signal };
  }
  for (const key of Object.keys(r)) {
    if (!['command', 'cwd', 'env', 'timeoutSec'].includes(key))
      throw invalidParams(`restart.${key}`, 'is not a field of restart (expected: command, cwd, env, timeoutSec; or signal)');
  }
  const command = argv(r.command);
  const cwd = r.cwd;
  if (cwd !== undefined && (typeof cwd !== 'string' || !cwd.startsWith('/') || cwd.length > LIMITS.pathChars || CONTROL.test(cwd))) {
    throw invalidParams('restart.cwd', `must be an absolute path of at most ${LIMITS.pathChars} characters`);
  }
  const vars = env(r.env);
  const t = r.timeoutSec;
  if (t !== undefined && (typeof t !== 'number' || !Number.isInteger(t) || t < 1 || t > LIMITS.restartTimeoutSec)) {
    throw invalidParams('restart.timeoutSec', `must be a whole number 1..${LIMITS.restartTimeoutSec}`);
  }
  return {
    command,
    ...(cwd !== undefined && { cwd: cwd as string }),
    ...(vars !== undefined && { env: vars }),
    ...(t !== undefined && { timeoutSec: t as number }),
  };
}

export function onPortChange(p: v.Params): PortChangePolicy | undefined {
  return v.optEnum(p, 'onPortChange', PORT_CHANGE_POLICIES);
}

/**
 * The check that this caller may set a restart action on service `name`: run
 * it at once, and hand the returned precondition to the mutation, which runs
 * it again inside the lock (with the access layer's own check first), where
 * the service cannot change hands before the action is stored.
 */
export function restartCheck(app: App, ctx: RpcContext, name: string): Precondition {
  const refuse = (state: State) => {
    const refusal = app.restartRefusal(ctx, state.services[name]);
    if (refusal !== null)
      throw new DomainError(ErrorCode.PermissionDenied, `permission denied: ${refusal}`, { field: 'restart', problem: refusal });
  };
  refuse(app.registry.state);
  const access = ctx.check;
  return Object.assign(
    (state: State, index: Parameters<Precondition>[1], now: number) => {
      access?.(state, index, now);
      refuse(state);
    },
    access?.by !== undefined ? { by: access.by } : {},
  );
}

/**
 * The restart action as the caller may see it: env values and cwd (hidden by
 * toService) only for the service's owner or an admin. The caller is looked up
 * only when there is something to show, so service.get stays cheap otherwise.
 */
export async function revealRestart(app: App, ctx: RpcContext, name: string): Promise<RestartAction | undefined> {
  const s = app.registry.state.services[name];
  if (!s?.restart || !hasSecrets(s.restart)) return undefined;
  const caller = ctx.caller ?? (await app.callers.identify(ctx.conn));
  const policy = app.callers.policy;
  // Read again: the lookup may have waited, and the record may have changed meanwhile.
  const now = app.registry.state.services[name];
  if (!caller || !now?.restart) return undefined;
  return isAdmin(caller, policy) || ownerOf(now, policy).uid === caller.uid ? now.restart : undefined;
}
