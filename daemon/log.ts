// Logging: pino to stdout, and to PORTMAND_LOG_FILE when set (reopened on
// SIGHUP so logrotate can move the file away).
import { pino, type Logger } from 'pino';

export type Log = Logger;

/** pino's levels, and 'silent' for none: config.ts refuses anything else, naming where it came from. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function createLog(opts: { level: LogLevel; file: string | null }): { log: Log; reopen: () => void } {
  if (!opts.file) return { log: pino({ level: opts.level, base: { pid: process.pid } }), reopen: () => undefined };
  const file = pino.destination({ dest: opts.file, mkdir: true, sync: true });
  const streams = pino.multistream([{ level: opts.level, stream: process.stdout }, { level: opts.level, stream: file }]);
  return { log: pino({ level: opts.level, base: { pid: process.pid } }, streams), reopen: () => file.reopen() };
}

type Handler<C> = (params: Record<string, unknown>, ctx: C) => unknown;

/** Methods that change the registry; each call is an audit record. */
const MUTATIONS = new Set(['service.register', 'service.setPort', 'service.unregister', 'service.restart', 'port.allocate', 'port.release', 'port.reserve', 'conflict.resolve']);
/** Allocations come by the thousand from test runners: audited at debug, so info stays readable. */
const HIGH_VOLUME = new Set(['port.allocate']);

/**
 * Wraps the mutating handlers so that every change (and every refusal) leaves
 * an `audit` record naming the method, its params, the connection and the outcome.
 */
export function withAudit<C extends { conn: { id: number } }>(log: Log, methods: Record<string, Handler<C>>): Record<string, Handler<C>> {
  const out: Record<string, Handler<C>> = { ...methods };
  for (const [name, handler] of Object.entries(methods)) {
    if (!MUTATIONS.has(name)) continue;
    const level = HIGH_VOLUME.has(name) ? 'debug' : 'info';
    out[name] = async (params, ctx) => {
      const record = { audit: true, method: name, params, conn: ctx.conn.id };
      try {
        const result = await handler(params, ctx);
        log[level]({ ...record, ok: true }, name);
        return result;
      } catch (err) {
        const e = err as { code?: number; message?: string };
        log[level]({ ...record, ok: false, code: e.code, error: e.message }, name);
        throw err;
      }
    };
  }
  return out;
}
