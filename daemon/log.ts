// Logging: pino to stdout, and to PORTMAND_LOG_FILE when set (reopened on
// SIGHUP so logrotate can move the file away).
import { pino, type Logger } from 'pino';

export type Log = Logger;

export function createLog(opts: { level: string; file: string | null }): { log: Log; reopen: () => void } {
  if (!opts.file) return { log: pino({ level: opts.level, base: { pid: process.pid } }), reopen: () => undefined };
  const file = pino.destination({ dest: opts.file, mkdir: true, sync: true });
  const streams = pino.multistream([{ level: opts.level as pino.Level, stream: process.stdout }, { level: opts.level as pino.Level, stream: file }]);
  return { log: pino({ level: opts.level, base: { pid: process.pid } }, streams), reopen: () => file.reopen() };
}
