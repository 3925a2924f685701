// `portmand run <service> -- command args...`: gets the service's port (the
// same one while it holds it), runs the command with PORT set and the child
// registered as the port's owner, forwards signals, gives the port back when
// the child exits (unless --keep) and exits with the child's code. With
// --restart-on-change, a move by the daemon or an operator stops the child
// gracefully and starts it again on the new port. No TTY is needed: it is
// meant for CI and package.json scripts.
import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import type { PortmandClient, PortmandEvent, Service } from '../client.ts';
import { ErrorCode } from '../protocol.ts';
import { port as portArg, str, UsageError, type Verb } from './args.ts';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Signals passed on to the child; it decides what they mean. */
const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGUSR1', 'SIGUSR2'] as const;
/** How long a child may take to stop after SIGTERM when its port moves, before SIGKILL. */
const STOP_GRACE_MS = 10_000;

/** The shell's convention: 128 + the signal's number for a child ended by a signal. */
function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return 128 + (signal ? (constants.signals[signal] ?? 0) : 0);
}

/** Exit code 127 for a program that could not start, as a shell's "command not found". */
const NOT_STARTED = 127;

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  // First: a child that never started has a negative errno as its exitCode.
  if (child.pid === undefined) return Promise.resolve({ code: NOT_STARTED, signal: null });
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

export const run: Verb = {
  name: 'run',
  args: '<service> -- <command> [args...]',
  summary: "run a command on its service's port: PORT is set, the child owns the port, the port is released when it exits",
  details: [
    "Exits with the command's exit code (128+N when signal N ended it); signals are forwarded to it.",
    "Put -- before the command so that its options are not taken for portmand's.",
    'A service that was registered before keeps its registration (host, health check, restart action, tags) and is not removed when the command exits.',
  ].join('\n'),
  options: {
    range: { type: 'string', value: 'R', help: 'allocate from this range (a name, or START-END)' },
    preferred: { type: 'string', value: 'N', help: 'the port to try first' },
    env: { type: 'string', value: 'NAME', help: 'the variable that carries the port (default PORT)' },
    'restart-on-change': { type: 'boolean', help: 'when the port moves, stop the command and start it again on the new port' },
    keep: { type: 'boolean', help: 'keep the port when the command exits' },
  },
  positionals: { min: 2, max: Number.MAX_SAFE_INTEGER },
  async run(ctx) {
    const [service, program, ...args] = ctx.positionals as [string, string, ...string[]];
    const v = ctx.values;
    const envName = str(v.env) ?? 'PORT';
    if (!ENV_NAME.test(envName))
      throw new UsageError(`run: --env must be a variable name (letters, digits, _), got ${JSON.stringify(envName)}`);
    const preferred = v.preferred === undefined ? undefined : portArg(v.preferred, '--preferred');
    const range = str(v.range);
    const follow = v['restart-on-change'] === true;
    const pm = ctx.client();
    // A service registered before is borrowed, not owned: its registration (host, check, restart
    // action, tags) stays as it was, and it is not removed when the command exits.
    const before = await pm.service.get({ name: service }).catch((e: { code?: number }) => {
      if (e.code === ErrorCode.NotFound) return null;
      throw e;
    });
    const { port } = await pm.port.allocate({
      service,
      ...(range !== undefined && { range }),
      ...(preferred !== undefined && { preferred }),
    });

    let current = port;
    const err = (text: string) => ctx.io.err(text);
    let child = await start(program, args, { ...ctx.io.env, [envName]: String(port) }, err);
    const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
    const handlers = FORWARDED.map((s) => [s, forward(s)] as const);
    for (const [s, h] of handlers) process.on(s, h);
    let moving: Promise<void> = Promise.resolve();
    const onMove = (e: PortmandEvent<'port_assigned'>) => {
      if (e.data.service !== service || e.data.port === current) return;
      const to = e.data.port;
      // One move at a time: a second one waits for the first to finish.
      moving = moving.then(async () => {
        if (to === current) return;
        current = to;
        const old = child;
        const stopped = exited(old);
        old.kill('SIGTERM');
        const timer = setTimeout(() => old.kill('SIGKILL'), STOP_GRACE_MS);
        await stopped;
        clearTimeout(timer);
        ctx.io.err(`portmand: ${service} moved to port ${to}; restarting the command`);
        child = await start(program, args, { ...ctx.io.env, [envName]: String(to) }, err);
        await own(pm, service, to, child, follow, before);
      });
    };
    try {
      await own(pm, service, current, child, follow, before);
      if (follow) {
        pm.on('port_assigned', onMove);
        await pm.events.subscribe({ types: ['port_assigned'] });
      }
      // The command is done when the child that is current once it exits has exited (a restart replaces it).
      for (;;) {
        const seen = child;
        const end = await exited(seen);
        await moving;
        if (child === seen) return exitCodeOf(end.code, end.signal);
      }
    } catch (e) {
      // The daemon refused or went away: the command is not left running unowned.
      child.kill('SIGTERM');
      throw e;
    } finally {
      for (const [s, h] of handlers) process.off(s, h);
      pm.off('port_assigned', onMove);
      if (v.keep !== true && before === null) {
        await pm.service
          .unregister({ name: service })
          .catch((err: Error) => ctx.io.err(`portmand: could not release ${service}'s port: ${err.message}`));
      }
    }
  },
};

/** Starts the command; resolves once it runs or could not start (then its pid is undefined and the error was printed). */
async function start(
  program: string,
  args: string[],
  env: Record<string, string | undefined>,
  err: (text: string) => void,
): Promise<ChildProcess> {
  // No shell: the command line is already split. stdio is shared, so it works the same with or without a TTY.
  const child = spawn(program, args, { stdio: 'inherit', env });
  await new Promise<void>((resolve) => {
    child.once('spawn', resolve);
    child.once('error', (e: NodeJS.ErrnoException) => {
      if (child.pid === undefined) err(`portmand: cannot run ${program}: ${e.code ?? e.message}`);
      resolve();
    });
  });
  return child;
}

/** Registers the child as the port's owner; with --restart-on-change the daemon may also move it on its own. */
async function own(
  pm: PortmandClient,
  service: string,
  port: number,
  child: ChildProcess,
  follow: boolean,
  before: Service | null,
): Promise<void> {
  if (child.pid === undefined) return;
  // An omitted host would reset a borrowed service's host to the wildcard; the rest of it is kept by the daemon.
  const where = before ? { host: before.host, protocol: before.protocol } : {};
  await pm.service.register({ name: service, port, pid: child.pid, ...where, ...(follow && { autoResolve: true }) });
}
