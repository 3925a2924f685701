// The CLI's dispatcher: parse, run one verb, map what went wrong to an exit
// code. Takes its I/O as an argument so tests run it in-process.
import { packageVersion } from '../version.ts';
import { DEFAULT_TIMEOUT_MS, PortmandClient } from '../client.ts';
import { ConnectionError, PortmandError } from '../errors.ts';
import { existsSync } from 'node:fs';
import { clientSocket, processPathContext } from '../paths.ts';
import { parseCommandLine, seconds, UsageError, type Context, type Io, type Verb } from './args.ts';
import { config } from './config.ts';
import { conflicts, detect, resolve } from './conflicts.ts';
import { daemon } from './daemon.ts';
import { escapeControl, escapeStrings, terminalText } from './format.ts';
import { globalHelp, usageHint, verbHelp } from './help.ts';
import { allocate, check, ports, release, reserve, suggest } from './ports.ts';
import { list, register, status, unregister } from './services.ts';
import { watch } from './watch.ts';
import { health } from './health.ts';
import { stats } from './stats.ts';
import { service } from './service.ts';
import { logs } from './logs.ts';
import { completionVerb } from './completion.ts';
import { history } from './history.ts';
import { metrics } from './metrics.ts';
import { showService } from './inspect.ts';
import { top } from './top.ts';
import { token, whoami } from './access.ts';
import { run } from './run.ts';
import { restart } from './restart.ts';
import { setPort } from './set-port.ts';
import { api } from './api.ts';

export type { Io } from './args.ts';

/** Every verb, in the order help lists them. */
export const VERBS: readonly Verb[] = [
  daemon,
  status,
  list,
  showService,
  register,
  setPort,
  unregister,
  allocate,
  release,
  check,
  reserve,
  suggest,
  ports,
  history,
  conflicts,
  detect,
  resolve,
  watch,
  top,
  health,
  stats,
  metrics,
  service,
  run,
  restart,
  logs,
  config,
  whoami,
  token,
  api,
  completionVerb(() => VERBS),
];

export const EXIT = { ok: 0, daemonError: 1, usage: 2, unreachable: 3 } as const;

/** Runs one command line and resolves to the process exit code. */
export async function main(argv: string[], rawIo: Io): Promise<number> {
  const io = terminalSafe(rawIo);
  let verb: Verb | undefined;
  let client: PortmandClient | undefined;
  try {
    const line = parseCommandLine(argv, VERBS);
    if (line.kind === 'help') return (io.out(line.verb ? verbHelp(line.verb) : globalHelp(VERBS)), EXIT.ok);
    if (line.kind === 'version') return (io.out(packageVersion()), EXIT.ok);
    verb = line.verb;
    if (line.values.help) return (io.out(verbHelp(verb)), EXIT.ok);
    const found =
      typeof line.values.socket === 'string'
        ? { path: line.values.socket, source: 'flag' as const }
        : // io.env, not process.env: an in-process run (tests) names its own socket.
          clientSocket(io.env, processPathContext(), existsSync);
    const socketPath = found.path;
    const timeoutMs = seconds(line.values.timeout, '--timeout', DEFAULT_TIMEOUT_MS);
    const ctx: Context = {
      io,
      json: line.values.json === true,
      socketPath,
      socketSource: found.source,
      timeoutMs,
      values: line.values,
      positionals: line.positionals,
      client: (options) => (client ??= new PortmandClient({ socketPath, sendPid: false, timeoutMs, ...options })),
    };
    return (await verb.run(ctx)) ?? EXIT.ok;
  } catch (err) {
    return report(err, io, argv.includes('--json'), verb);
  } finally {
    client?.close();
  }
}

/**
 * Every line the CLI writes passes here, whatever verb wrote it: control
 * characters in it are escaped, except newlines and the CLI's own colours.
 * Verbs also escape the data they draw (see show.ts); this is the backstop
 * that a new verb cannot forget. JSON text keeps its value (see terminalText).
 */
function terminalSafe(io: Io): Io {
  return { ...io, out: (text) => io.out(terminalText(text, io.color)), err: (text) => io.err(terminalText(text, io.color)) };
}

function report(err: unknown, io: Io, json: boolean, verb: Verb | undefined): number {
  // With --json a script gets an error object on stdout whatever failed; `kind` says which exit it is.
  const jsonError = (kind: string, message: string, extra: object = {}) =>
    json && io.out(JSON.stringify({ error: { kind, message, ...extra } }));
  if (err instanceof UsageError) {
    jsonError('usage', err.message);
    io.err(`portmand: ${err.message}\n${usageHint(err.verb ?? verb?.name)}`);
    return EXIT.usage;
  }
  if (err instanceof ConnectionError) {
    jsonError('unreachable', err.message, { socket: err.socketPath });
    io.err(err.message); // already names portmand and the socket
    return EXIT.unreachable;
  }
  if (err instanceof PortmandError) {
    if (json) io.out(JSON.stringify({ error: { kind: 'daemon', code: err.code, message: err.message, data: err.data ?? null } }));
    // The message and data may repeat what a client stored: escaped like any other daemon text.
    const message = escapeControl(err.message);
    io.err(`portmand: ${message}${describeData(err.data && escapeStrings(err.data), message)}`);
    return EXIT.daemonError;
  }
  // Anything else (the daemon verb failing to start, a bug): the message, and the stack on request.
  const debug = Boolean(io.env.PORTMAND_DEBUG) && err instanceof Error;
  io.err(`portmand: ${err instanceof Error ? (debug ? err.stack : err.message) : String(err)}`);
  return EXIT.daemonError;
}

// data.field/problem for invalid params (unless the message already says
// it); the other codes' data in brief.
function describeData(data: Record<string, unknown> | undefined, message: string): string {
  if (!data) return '';
  if (typeof data.field === 'string') {
    const problem = String(data.problem ?? 'invalid');
    return message.includes(problem) ? '' : `\n  ${data.field}: ${problem}`;
  }
  const lines = Object.entries(data)
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => `  ${k}: ${k === 'owner' && isOwner(v) ? ownerText(v) : typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
  return lines.length ? `\n${lines.join('\n')}` : '';
}

function isOwner(v: unknown): v is { uid: number; user?: unknown } {
  return typeof v === 'object' && v !== null && typeof (v as { uid?: unknown }).uid === 'number';
}

/** -32004's owner as a person reads it: "nobody (uid 65534)". */
function ownerText(o: { uid: number; user?: unknown }): string {
  return typeof o.user === 'string' ? `${o.user} (uid ${o.uid})` : `uid ${o.uid}`;
}
