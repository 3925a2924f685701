// The restart parameters of service.register: `restart` (a command run
// without a shell, or a signal) and `onPortChange`. Everything in an argv,
// cwd or env is stored and later both executed and printed, so each string is
// bounded and free of control characters, and names are plain variable names.
import {
  LIMITS,
  PORT_CHANGE_POLICIES,
  RESTART_SIGNALS,
  type PortChangePolicy,
  type RestartAction,
  type RestartSignal,
} from '../../client/protocol.ts';
import { invalidParams } from '../core/errors.ts';
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
