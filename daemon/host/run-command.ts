// Runs a restart command the way the contract promises: no shell, its own
// process group (so a timeout ends everything it started), as a given uid and
// gid when the daemon may switch, with a fixed environment, and with its
// output kept to a bounded size for the log.
import { spawn } from 'node:child_process';

/** The PATH a command gets unless its env sets one (systemd's default): nothing from the daemon's own environment leaks. */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Output kept per stream; the rest is counted and dropped. */
export const OUTPUT_LIMIT_BYTES = 8 * 1024;

/** How long output may still arrive after the command exits (a background child may hold the pipe open forever). */
const DRAIN_MS = 200;

export interface CommandSpec {
  argv: readonly string[];
  cwd?: string;
  env: Record<string, string>;
  timeoutMs: number;
  /** Set only when the daemon runs as root and the command's owner is someone else. */
  uid?: number;
  gid?: number;
  /** Written to the command's stdin, which is then closed (an alert's event); none: stdin is /dev/null. */
  stdin?: string;
}

export interface CommandOutcome {
  /** The exit code, or null when a signal ended it (or it never started). */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** Why it could not start (ENOENT, EACCES, ...). */
  spawnError?: string;
  stdout: string;
  stderr: string;
  /** Bytes dropped beyond OUTPUT_LIMIT_BYTES, both streams together. */
  droppedBytes: number;
}

export type RunCommand = (spec: CommandSpec) => Promise<CommandOutcome>;

/** A bounded collector: keeps the first OUTPUT_LIMIT_BYTES. */
function collector(): { add(chunk: Buffer): void; text(): string; dropped(): number } {
  const parts: Buffer[] = [];
  let kept = 0;
  let dropped = 0;
  return {
    add(chunk) {
      const room = OUTPUT_LIMIT_BYTES - kept;
      if (room > 0) parts.push(chunk.subarray(0, room));
      kept += Math.min(room, chunk.length);
      dropped += Math.max(0, chunk.length - Math.max(room, 0));
    },
    text: () => Buffer.concat(parts).toString('utf8'),
    dropped: () => dropped,
  };
}

/** Kills the whole process group: the command and whatever it started that stayed in its group. */
function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

export const runCommand: RunCommand = (spec) =>
  new Promise((resolve) => {
    const out = collector();
    const err = collector();
    let timedOut = false;
    const child = spawn(spec.argv[0]!, spec.argv.slice(1), {
      cwd: spec.cwd,
      env: { PATH: DEFAULT_PATH, ...spec.env },
      // A group of its own, so a timeout reaches grandchildren; never a shell.
      detached: true,
      shell: false,
      stdio: [spec.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] as ['pipe', 'pipe', 'pipe'],
      ...(spec.uid !== undefined && { uid: spec.uid }),
      ...(spec.gid !== undefined && { gid: spec.gid }),
    });
    if (spec.stdin !== undefined && child.stdin) {
      // A command that exits without reading its input is not an error of ours.
      child.stdin.on('error', () => undefined);
      child.stdin.end(spec.stdin);
    }
    child.stdout.on('data', (d: Buffer) => out.add(d));
    child.stderr.on('data', (d: Buffer) => err.add(d));
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) killGroup(child.pid);
    }, spec.timeoutMs);
    const finish = (exitCode: number | null, signal: NodeJS.Signals | null, spawnError?: string) => {
      clearTimeout(timer);
      resolve({
        exitCode,
        signal,
        timedOut,
        ...(spawnError !== undefined && { spawnError }),
        stdout: out.text(),
        stderr: err.text(),
        droppedBytes: out.dropped() + err.dropped(),
      });
    };
    child.once('error', (e: NodeJS.ErrnoException) => {
      // Only a failure to start comes here without an exit.
      if (child.pid === undefined) finish(null, null, e.code ?? e.message);
    });
    child.once('exit', (code, signal) => {
      // Whatever the command left running in the background keeps the pipes open: read briefly, then let go.
      const drain = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
      }, DRAIN_MS);
      const streams = [child.stdout, child.stderr].filter((s) => !s.closed);
      let open = streams.length;
      const closed = () => {
        if (--open > 0) return;
        clearTimeout(drain);
        finish(code, signal);
      };
      if (open === 0) closed();
      for (const s of streams) s.once('close', closed);
    });
  });

/** Sends a restart signal to a service's process. Returns the errno code on failure. */
export function sendSignal(pid: number, signal: NodeJS.Signals): string | null {
  try {
    process.kill(pid, signal);
    return null;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? (e as Error).message;
  }
}
