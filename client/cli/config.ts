// `portmand config [--json]`: the effective configuration and where each value
// came from. The running daemon is asked first (daemon.config): it knows its
// own environment and file, which this shell may not share. With no daemon
// running, the CLI computes what a daemon started from this shell would use,
// from the same daemon/config.ts, imported lazily (the client never loads
// daemon code otherwise) and says so. `config check [FILE]` validates a file.
import { DaemonUnavailableError, PortmandError } from '../errors.ts';
import { processPathContext } from '../paths.ts';
import { ErrorCode, type ConfigSource, type EffectiveConfig, type Range } from '../protocol.ts';
import { UsageError, type Context, type Verb } from './args.ts';
import { escapeControl, table } from './format.ts';

/** sysexits' EX_CONFIG, as `portmand daemon` exits on the same problems. */
export const EX_CONFIG = 78;

export const config: Verb = {
  name: 'config',
  args: '[check [FILE]]',
  summary: 'show the effective configuration and where each value came from; `check` validates a config file',
  details: [
    "config        the running daemon's configuration: each value and its source (default, the file, or",
    '              an environment variable). With no daemon running, what a daemon started from this',
    '              shell would use (and a note saying so).',
    'check [FILE]  check a config file (default: $PORTMAND_CONFIG, else the default location): every',
    '              problem with its key path, exit 78; "ok" and exit 0 when the file is valid.',
    '',
    'The config file: $PORTMAND_CONFIG; else /etc/portmand/config.json for the system daemon (root),',
    '$XDG_CONFIG_HOME/portmand/config.json (~/.config/...) per user; on macOS',
    '/Library/Application Support/portmand/config.json and ~/Library/Application Support/portmand/config.json.',
    'A missing default file means embedded defaults; a missing $PORTMAND_CONFIG file is an error.',
  ].join('\n'),
  options: {},
  positionals: { min: 0, max: 2 },
  run: (ctx) => {
    const [action, file] = ctx.positionals;
    if (action === 'check') return check(ctx, file);
    if (action !== undefined) throw new UsageError(`config: unknown action "${action}" (check)`);
    return show(ctx);
  },
};

async function show(ctx: Context): Promise<number> {
  let view: EffectiveConfig;
  let note: string | null = null;
  try {
    view = await ctx.client().daemon.config();
  } catch (err) {
    // --socket names a daemon to ask: its absence is the answer (exit 3), not a cue to guess.
    const absent = err instanceof DaemonUnavailableError && typeof ctx.values.socket !== 'string';
    const older = err instanceof PortmandError && err.code === ErrorCode.MethodNotFound;
    if (!absent && !older) throw err;
    const local = await computeLocally(ctx);
    if (typeof local === 'number') return local;
    view = local;
    note = absent
      ? `no daemon runs at ${ctx.socketPath}: this is what a daemon started from this shell would use`
      : `the daemon at ${ctx.socketPath} does not report its configuration (an older version): this is what a daemon started from this shell would use`;
  }
  if (ctx.json) {
    ctx.io.out(JSON.stringify({ origin: note === null ? 'daemon' : 'local', ...(note !== null && { note }), ...view }, null, 2));
    return 0;
  }
  if (note !== null) ctx.io.err(`portmand: ${note}`);
  const f = view.file;
  const where = f.from === 'env' ? 'from PORTMAND_CONFIG' : 'the default location';
  ctx.io.out(`config file: ${escapeControl(f.path)} (${where}${f.found ? '' : '; none there: embedded defaults'})`);
  const rows = view.settings.map((s) => [
    escapeControl(s.key),
    escapeControl(describeValue(s.key, s.value)),
    escapeControl(describeSource(s.source)),
  ]);
  ctx.io.out(table(['KEY', 'VALUE', 'SOURCE'], rows, [], ctx.io.columns));
  return 0;
}

// The daemon's code is loaded only here and in check(), on demand.
async function computeLocally(ctx: Context): Promise<EffectiveConfig | number> {
  const { localConfig } = await import('../../daemon/config/report.ts');
  const { ConfigError } = await import('../../daemon/config/config.ts');
  try {
    return await localConfig({ ...ctx.io.env }, processPathContext());
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return reportProblems(ctx, null, err.problems);
  }
}

async function check(ctx: Context, file: string | undefined): Promise<number> {
  const { checkConfigFile } = await import('../../daemon/config/report.ts');
  const r = await checkConfigFile(file, { ...ctx.io.env }, processPathContext());
  if (r.problems.length > 0) return reportProblems(ctx, r.path, r.problems);
  if (ctx.json) ctx.io.out(JSON.stringify({ path: r.path, found: r.found, ok: true, problems: [] }));
  else if (!r.found) ctx.io.out(`ok: no config file at ${escapeControl(r.path)}; a daemon uses its embedded defaults`);
  else ctx.io.out(`${escapeControl(r.path)}: ok`);
  return 0;
}

function reportProblems(ctx: Context, path: string | null, problems: string[]): number {
  if (ctx.json) ctx.io.out(JSON.stringify({ path, ok: false, problems }));
  for (const p of problems) ctx.io.err(`portmand: ${escapeControl(p)}`);
  return EX_CONFIG;
}

function describeSource(s: ConfigSource): string {
  if (s.from === 'env') return `env ${s.variable}`;
  if (s.from === 'file') return `file ${s.path}`;
  return 'default';
}

// Ranges and reservations read as a person writes them; anything else as JSON.
function describeValue(key: string, value: unknown): string {
  if (value === null) return '-';
  if (typeof value === 'string') return value;
  if (key === 'ranges' && Array.isArray(value)) return (value as Range[]).map((r) => `${r.name} ${r.start}-${r.end}`).join(', ');
  if (key === 'reservations' && Array.isArray(value)) {
    if (value.length === 0) return 'none';
    return (value as Array<{ port: number; protocol: string; for?: string }>)
      .map((r) => `${r.port}/${r.protocol}${r.for ? ` (${r.for})` : ''}`)
      .join(', ');
  }
  return JSON.stringify(value);
}
