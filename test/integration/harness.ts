// Starts the real daemon (the compiled CLI, as users and systemd run it) on a
// temp socket and state dir, and runs the real CLI against it.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import { PortmandClient } from '../../client/client.ts';
import { DEFAULT_HOLDOFF_ROUNDS } from '../../daemon/core/lifecycle.ts';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = path.join(ROOT, 'dist/bin/portmand.js');

export interface Daemon {
  dir: string;
  socket: string;
  stateDir: string;
  proc: ChildProcess;
  logs: Array<Record<string, unknown>>;
  env: NodeJS.ProcessEnv;
  client(opts?: { sendPid?: boolean }): PortmandClient;
  cli(args: string[], opts?: { env?: NodeJS.ProcessEnv }): Promise<CliResult>;
  /** The same CLI code run in this process (see runCliInProcess). */
  cliInProcess(args: string[], opts?: { env?: NodeJS.ProcessEnv }): Promise<CliResult>;
  /** Resolves with the first log record that matches. */
  waitForLog(match: (rec: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A short temp dir: Unix socket paths are limited to ~104 bytes on macOS. */
export function tempDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'pm-'));
}

export function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Runs the CLI's main() in this process with the environment runCli would give
 * a child, against the same daemon: the same code and output for a fraction of
 * a node start. Exit codes, signals, TTYs and process wiring keep runCli tests.
 */
export async function runCliInProcess(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  const { main } = await import('../../client/cli/main.ts');
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    out: (text) => (stdout += `${text}\n`),
    err: (text) => (stderr += `${text}\n`),
    // As a child with piped stdout: no colour, no terminal width.
    color: false,
    env: { ...process.env, NO_COLOR: '1', ...env },
    now: () => Date.now(),
    untilStopped: () => new Promise<void>(() => {}),
  });
  return { code, stdout, stderr };
}

export async function startDaemon(opts: { dir?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Daemon> {
  const dir = opts.dir ?? tempDir();
  const socket = path.join(dir, 'pm.sock');
  const stateDir = path.join(dir, 'state');
  // An empty config of its own: as root the daemon would otherwise read the host's /etc/portmand/config.json.
  const config = path.join(dir, 'config.json');
  if (!existsSync(config)) writeFileSync(config, '{}\n');
  const env: NodeJS.ProcessEnv = {
    PORTMAND_SOCKET: socket,
    PORTMAND_STATE_DIR: stateDir,
    PORTMAND_SCAN_INTERVAL: '1',
    PORTMAND_LOG_LEVEL: 'debug',
    PORTMAND_CONFIG: config,
    ...opts.env,
  };
  const proc = spawn(process.execPath, [CLI, 'daemon'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: Array<Record<string, unknown>> = [];
  const waiters: Array<{ match: (r: Record<string, unknown>) => boolean; resolve: (r: Record<string, unknown>) => void }> = [];
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d));
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    let rec: Record<string, unknown>;
    try {
      rec = JSON.parse(line) as Record<string, unknown>;
    } catch {
      rec = { msg: line };
    }
    logs.push(rec);
    for (const w of [...waiters]) {
      if (w.match(rec)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(rec);
      }
    }
  });
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const waitForLog = (match: (r: Record<string, unknown>) => boolean) => {
    const seen = logs.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise<Record<string, unknown>>((resolve) => waiters.push({ match, resolve }));
  };
  const ready = await Promise.race([
    waitForLog((r) => r.msg === 'portmand ready'),
    exited.then((code) => {
      throw new Error(`daemon exited with ${code} before it was ready:\n${stderr}\n${logs.map((l) => JSON.stringify(l)).join('\n')}`);
    }),
  ]);
  void ready;
  const clients: PortmandClient[] = [];
  return {
    dir,
    socket,
    stateDir,
    proc,
    logs,
    env,
    waitForLog,
    client(opts = {}) {
      const c = new PortmandClient({ socketPath: socket, ...opts });
      clients.push(c);
      return c;
    },
    cli: (args, o = {}) => runCli(args, { ...env, ...o.env }),
    cliInProcess: (args, o = {}) => runCliInProcess(args, { ...env, ...o.env }),
    async stop(signal = 'SIGTERM') {
      for (const c of clients) c.close();
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill(signal);
      return exited;
    },
  };
}

export function cleanup(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** One daemon for a test file: started before its tests, stopped and removed after them. */
export function useDaemon(opts: { env?: NodeJS.ProcessEnv } = {}): () => Daemon {
  let d: Daemon | undefined;
  beforeAll(async () => {
    d = await startDaemon(opts);
  });
  afterAll(async () => {
    if (!d) return;
    await d.stop();
    cleanup(d.dir);
  });
  return () => d!;
}

/**
 * Runs now the scans in a row that the hold-off needs before a dead owner's
 * services are stopped and its leases reclaimed, rather than waiting that many
 * scan intervals. Call it once the owners are gone: after their 'exit' event,
 * as a zombie still counts as alive.
 */
export async function holdoffScans(pm: PortmandClient): Promise<void> {
  for (let round = 0; round < DEFAULT_HOLDOFF_ROUNDS; round++) await pm.conflict.detect();
}
