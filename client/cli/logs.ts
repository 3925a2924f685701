// `portmand logs`: the daemon's records, from its log file or, when it logs
// to the systemd journal, from journalctl; pretty by default, --json for tools.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import os from 'node:os';
import { createInterface } from 'node:readline';
import { escapeControl } from '../escape.ts';
import { formatLogRecord, parseLogLine } from '../log-format.ts';
import { followFile, lastLines } from '../logs/file-reader.ts';
import { levelNumber, matches, parseSince, type LogFilter } from '../logs/filter.ts';
import { cursorOf, journalArgs } from '../logs/journal.ts';
import { int, str, UsageError, type Context, type Verb } from './args.ts';
import { paint } from './format.ts';

export const logs: Verb = {
  name: 'logs',
  summary: "show the daemon's log (its file, or the journal under systemd); -f to follow",
  details: [
    'Where: --file, else $PORTMAND_LOG_FILE, else on macOS ~/Library/Logs/portmand/portmand.log',
    '(/Library/Logs/portmand for the system daemon), else journalctl for portmand.service',
    '(--user-unit for a per-user daemon). Follows across log rotation.',
  ].join('\n'),
  options: {
    lines: { type: 'string', short: 'n', value: 'N', help: 'the last N matching records (default 20)' },
    follow: { type: 'boolean', short: 'f', help: 'keep printing new records (until Ctrl-C)' },
    level: { type: 'string', value: 'L', help: 'only records at this level or above (trace, debug, info, warn, error, fatal)' },
    since: { type: 'string', value: 'T', help: 'only records since T: an ISO time, or 30s, 10m, 2h, 1d ago' },
    service: { type: 'string', value: 'S', help: 'only records about service S' },
    audit: { type: 'boolean', help: 'only audit records: every change and every refusal' },
    file: { type: 'string', value: 'PATH', help: 'read this log file' },
    journal: { type: 'boolean', help: 'read the systemd journal even when a log file is known' },
  },
  positionals: { min: 0, max: 0 },
  run,
};

async function run(ctx: Context): Promise<number> {
  const v = ctx.values;
  const n = int(v.lines ?? '20', '--lines', 0, 1_000_000);
  const filter = parseFilter(ctx);
  const p = paint(ctx.io.color);
  const print = (line: string) => {
    const rec = parseLogLine(line);
    if (!matches(rec, filter)) return;
    ctx.io.out(ctx.json ? JSON.stringify(rec) : formatLogRecord(rec, p));
  };
  const system = ctx.socketSource === 'system' || process.getuid?.() === 0;
  const file = v.journal === true ? null : (str(v.file) ?? (ctx.io.env.PORTMAND_LOG_FILE || defaultLogFile(system)));
  if (file) {
    if (!existsSync(file)) throw new UsageError(`no log file at ${file} (is PORTMAND_LOG_FILE set for the daemon? see --file)`);
    const keep = (line: string) => matches(parseLogLine(line), filter);
    const fh = await open(file, 'r');
    const last = await lastLines(fh, n, keep).catch(async (err: unknown) => {
      await fh.close();
      throw err;
    });
    for (const line of last.lines) print(line);
    if (v.follow === true) await followFile(file, fh, print, { from: last.size, stopped: ctx.io.untilStopped() });
    else await fh.close();
    return 0;
  }
  return readJournal(ctx, system ? 'system' : 'user', n, filter, print);
}

function parseFilter(ctx: Context): LogFilter {
  const v = ctx.values;
  const filter: LogFilter = { audit: v.audit === true };
  const level = str(v.level);
  if (level !== undefined) {
    const number = levelNumber(level);
    if (number === null)
      throw new UsageError(`--level must be one of trace, debug, info, warn, error, fatal, got ${JSON.stringify(level)}`);
    filter.minLevel = number;
  }
  const since = str(v.since);
  if (since !== undefined) {
    const t = parseSince(since, ctx.io.now());
    if (t === null) throw new UsageError(`--since must be an ISO time or a span like 30s, 10m, 2h, 1d, got ${JSON.stringify(since)}`);
    filter.since = t;
  }
  const service = str(v.service);
  if (service !== undefined) filter.service = service;
  return filter;
}

// launchd has no journal: the plists send the daemon's records to these files.
function defaultLogFile(system: boolean): string | null {
  if (process.platform !== 'darwin') return null;
  return system ? '/Library/Logs/portmand/portmand.log' : `${os.homedir()}/Library/Logs/portmand/portmand.log`;
}

/** journalctl once for the history (the last n matching), then --follow after its cursor. */
async function readJournal(
  ctx: Context,
  scope: 'system' | 'user',
  n: number,
  filter: LogFilter,
  print: (line: string) => void,
): Promise<number> {
  const filtered = filter.minLevel !== undefined || filter.service !== undefined || filter.audit === true;
  const history: string[] = [];
  let cursor: string | undefined;
  const code = await journalctl(ctx, journalArgs({ scope, lines: filtered ? null : n, follow: false, since: filter.since }), (line) => {
    const c = cursorOf(line);
    if (c !== null) cursor = c;
    else if (matches(parseLogLine(line), filter)) history.push(line);
  });
  if (code !== 0) {
    // journalctl may fail without a word (no journal on this host): say what failed and what else to read.
    const unit = `${scope === 'user' ? '--user-unit' : '--unit'} portmand.service`;
    ctx.io.err(
      `portmand: journalctl ${unit} exited ${code}; if the daemon writes a log file, read it with --file PATH (or PORTMAND_LOG_FILE)`,
    );
    return code;
  }
  for (const line of history.slice(Math.max(0, history.length - n))) print(line);
  if (ctx.values.follow !== true) return 0;
  const stopped = ctx.io.untilStopped();
  return journalctl(
    ctx,
    journalArgs({ scope, lines: cursor ? null : 0, follow: true, since: filter.since, afterCursor: cursor }),
    print,
    stopped,
  );
}

function journalctl(ctx: Context, args: string[], onLine: (line: string) => void, stopped?: Promise<void>): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn('journalctl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    createInterface({ input: child.stdout }).on('line', onLine);
    createInterface({ input: child.stderr }).on('line', (line) => ctx.io.err(`journalctl: ${escapeControl(line)}`));
    void stopped?.then(() => child.kill('SIGTERM'));
    child.on('error', (err) => {
      ctx.io.err(
        `portmand: cannot run journalctl (${err.message}); give the daemon a log file (PORTMAND_LOG_FILE) and read it with --file`,
      );
      resolve(1);
    });
    child.on('close', (code) => resolve(stopped ? 0 : (code ?? 1)));
  });
}
