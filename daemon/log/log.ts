// Logging: pino records to stdout (pretty on a terminal, JSON lines for the
// journal or a pipe) and to PORTMAND_LOG_FILE when set (always JSON; reopened
// on SIGHUP so logrotate can move the file away).
import cron from 'node-cron';
import { pino, type Logger } from 'pino';
import { paint } from '../../client/cli/format.ts';
import { formatLogRecord, parseLogLine } from '../../client/log-format.ts';
import type { LogOutput } from './output.ts';
import { ErrorCode, MUTATING_METHODS } from '../../client/protocol.ts';
import { clip } from './clip.ts';
import { REDACTED } from '../core/service-effects.ts';

export type Log = Logger;

/** pino's levels, and 'silent' for none: config.ts refuses anything else, naming where it came from. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LogOptions {
  level: LogLevel;
  file: string | null;
  output: LogOutput;
  /** Where stdout lines go (process.stdout; a test passes its own). */
  stdout?: { write(text: string): unknown };
}

export function createLog(opts: LogOptions): { log: Log; reopen: () => void } {
  const level = opts.level;
  // The logger's own level filters first; 'silent' is a logger level only, so its streams take any.
  const streamLevel: pino.Level = level === 'silent' ? 'fatal' : level;
  const out = opts.stdout ?? process.stdout;
  const streams: pino.StreamEntry[] = [];
  streams.push({ level: streamLevel, stream: opts.output.format === 'pretty' ? prettyStream(out, opts.output.color) : out });
  // Created (and recreated after a rotation) for the daemon's user only: audit records and commands' output are in it.
  const file = opts.file ? pino.destination({ dest: opts.file, mkdir: true, sync: true, mode: 0o600 }) : null;
  if (file) streams.push({ level: streamLevel, stream: file });
  const log = pino({ level, base: { pid: process.pid } }, pino.multistream(streams));
  return { log, reopen: () => file?.reopen() };
}

/** A pino destination that turns each JSON line into one escaped, optionally coloured, human line. */
function prettyStream(out: { write(text: string): unknown }, color: boolean): { write(line: string): void } {
  const p = paint(color);
  return { write: (line) => void out.write(`${formatLogRecord(parseLogLine(line), p)}\n`) };
}

/**
 * node-cron prints its own warnings and task errors with console.* and ANSI
 * colours; route everything it says through pino instead, so the journal
 * and the log file hold JSON only.
 */
export function routeCronLogs(log: Log): void {
  cron.setLogger({
    info: (message) => log.debug({ source: 'node-cron' }, String(message)),
    debug: (message) => log.debug({ source: 'node-cron' }, String(message)),
    warn: (message) => log.warn({ source: 'node-cron' }, String(message)),
    error: (message, err) =>
      log.error(
        { source: 'node-cron', err: err ?? (message instanceof Error ? message : undefined) },
        String(message instanceof Error ? message.message : message),
      ),
  });
}

type Handler<C> = (params: Record<string, unknown>, ctx: C) => unknown;

/** Who made a call, as the access layer established it (null: not established). */
type Who<C> = (ctx: C) => { uid: number; user?: string; pid?: number } | null;

/** Refusals that a flood would repeat by the thousand: kept out of info (the first of a flood says enough). */
const QUIET_CODES = new Set<number>([ErrorCode.RateLimited]);

/**
 * Params as the audit record shows them: a restart command's env values and
 * cwd read "***", as toService shows them to every caller. The params are not
 * checked yet (the schema check runs inside), so anything may be there.
 */
function withoutSecrets(params: Record<string, unknown>): Record<string, unknown> {
  const r = params.restart;
  if (r === undefined) return params;
  if (typeof r !== 'object' || r === null || Array.isArray(r)) return { ...params, restart: REDACTED };
  const { env, cwd, ...action } = r as Record<string, unknown>;
  const hidden =
    typeof env === 'object' && env !== null && !Array.isArray(env)
      ? Object.fromEntries(Object.keys(env).map((k) => [k, REDACTED]))
      : REDACTED;
  return { ...params, restart: { ...action, ...(cwd !== undefined && { cwd: REDACTED }), ...(env !== undefined && { env: hidden }) } };
}

/**
 * Wraps the mutating handlers so that every change and every refusal leaves
 * one info record with `audit: true`: the method, its params (clipped, see
 * clip.ts; restart env values and cwd hidden; never a token: only whether one
 * was presented), the caller (uid, user, pid) and the outcome.
 */
export function withAudit<C extends { conn: { id: number } }>(
  log: Log,
  who: Who<C>,
  methods: Record<string, Handler<C>>,
): Record<string, Handler<C>> {
  const out: Record<string, Handler<C>> = { ...methods };
  for (const name of MUTATING_METHODS) {
    const handler = methods[name];
    if (!handler) continue;
    const audited = async (params: Record<string, unknown>, ctx: C) => {
      const { token, ...rest } = params;
      const shown = withoutSecrets(rest);
      const audit = () => {
        const caller = who(ctx);
        return {
          audit: true,
          method: name,
          params: clip(shown),
          token: token !== undefined,
          conn: ctx.conn.id,
          ...(caller && { caller: { uid: caller.uid, user: caller.user, pid: caller.pid } }),
        };
      };
      try {
        const result = await handler(params, ctx);
        log.info({ ...audit(), ok: true }, name);
        return result;
      } catch (err) {
        const e = err as { code?: number; message?: string };
        const level = e.code !== undefined && QUIET_CODES.has(e.code) ? 'debug' : 'info';
        log[level]({ ...audit(), ok: false, code: e.code, error: e.message }, name);
        throw err;
      }
    };
    // Below info (the bench and many installs run at warn), no record is written: none is built, and the call gets no async frame of ours.
    out[name] = (params, ctx) => (log.isLevelEnabled('info') ? audited(params, ctx) : handler(params, ctx));
  }
  return out;
}
