// Daemons with their own state dirs racing for one stale socket path: one
// wins and serves it, the others refuse to start, and stopping never removes
// a socket the stopping daemon did not create.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, closeSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, expect, it, vi } from 'vitest';
import { PortmandClient } from '../../client/client.ts';
import { cleanup, CLI, tempDir } from './harness.ts';

const RACERS = 5;
const dirs: string[] = [];
const procs: ChildProcess[] = [];
afterEach(async () => {
  for (const p of procs.splice(0)) if (p.exitCode === null && p.signalCode === null) (p.kill('SIGKILL'), await once(p, 'exit'));
  for (const d of dirs.splice(0)) cleanup(d);
}, 60_000);

/** Leaves a socket file nobody listens on, as a daemon killed with -9 does. */
async function staleSocket(socket: string): Promise<void> {
  const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(socket)}, () => console.log('up'))`]);
  await once(child.stdout, 'data');
  child.kill('SIGKILL');
  await once(child, 'exit');
  expect(lstatSync(socket).isSocket()).toBe(true);
}

/**
 * Lines the racers up: each daemon's first scan runs `ss`, and this `ss`
 * (first on PATH) waits for one byte from a FIFO before it runs the real one.
 * Once all racers wait, one write releases them together, so they reach the
 * socket path within milliseconds of each other rather than spread over
 * their start-up times.
 */
function barrier(dir: string): { bin: string; waiting(): number; release(n: number): void; close(): void } {
  const bin = path.join(dir, 'bin');
  mkdirSync(bin);
  const fifo = path.join(dir, 'go');
  execFileSync('mkfifo', [fifo]);
  // Read-write: opening never blocks, and racers that open later still find their byte.
  const fd = openSync(fifo, 'r+');
  const realSs = execFileSync('sh', ['-c', 'command -v ss'], { encoding: 'utf8' }).trim();
  const ss = path.join(bin, 'ss');
  writeFileSync(ss, `#!/bin/sh\n: > "${dir}/waiting.$$"\ndd if="${fifo}" bs=1 count=1 status=none > /dev/null\nexec ${realSs} "$@"\n`);
  chmodSync(ss, 0o755);
  return {
    bin,
    waiting: () => readdirSync(dir).filter((f) => f.startsWith('waiting.')).length,
    release: (n) => writeSync(fd, 'x'.repeat(n)),
    close: () => closeSync(fd),
  };
}

/** Starts a daemon on `socket` with a state dir of its own; resolves to 'ready' or its exit code. */
function racer(dir: string, socket: string, i: number, bin: string): { proc: ChildProcess; outcome: Promise<'ready' | number | null> } {
  const env = {
    ...process.env,
    PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}`,
    PORTMAND_SOCKET: socket,
    PORTMAND_STATE_DIR: path.join(dir, `state-${i}`),
    PORTMAND_SCAN_INTERVAL: '3600',
  };
  const proc = spawn(process.execPath, [CLI, 'daemon'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  procs.push(proc);
  proc.stderr!.resume();
  const outcome = new Promise<'ready' | number | null>((resolve) => {
    createInterface({ input: proc.stdout! }).on('line', (line) => line.includes('"portmand ready"') && resolve('ready'));
    proc.once('exit', (code) => resolve(code));
  });
  return { proc, outcome };
}

it.runIf(process.platform === 'linux')(
  `of ${RACERS} daemons racing for one stale socket path, one serves it and the others exit; each round`,
  async () => {
    for (let round = 0; round < 2; round++) {
      const dir = tempDir();
      dirs.push(dir);
      const socket = path.join(dir, 'pm.sock');
      await staleSocket(socket);
      const gate = barrier(dir);
      const racers = Array.from({ length: RACERS }, (_, i) => racer(dir, socket, i, gate.bin));
      await vi.waitUntil(() => gate.waiting() === RACERS, { timeout: 30_000, interval: 20 });
      gate.release(RACERS);
      const outcomes = await Promise.all(racers.map((r) => r.outcome));
      gate.close();
      const winners = racers.filter((_, i) => outcomes[i] === 'ready');
      expect(
        outcomes.filter((o) => o === 'ready'),
        `round ${round}: ${JSON.stringify(outcomes)}`,
      ).toHaveLength(1);
      expect(outcomes.filter((o) => o !== 'ready').every((o) => o === 1)).toBe(true);

      // The socket reaches the winner, and stopping it removes the socket it made.
      const winner = winners[0]!.proc;
      const pm = new PortmandClient({ socketPath: socket });
      expect((await pm.daemon.status()).pid).toBe(winner.pid);
      pm.close();
      winner.kill('SIGTERM');
      expect((await once(winner, 'exit'))[0]).toBe(0);
      expect(existsSync(socket)).toBe(false);
    }
  },
  60_000,
);
