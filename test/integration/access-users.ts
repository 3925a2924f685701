// Running the client as another user: `runuser -u nobody` (a user with a
// name) or `setpriv --reuid` (a uid with no passwd entry), against a root
// daemon whose socket and directory they can reach.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './harness.ts';

const DRIVER = path.join(ROOT, 'test/integration/access-driver.mjs');

/** Why other users cannot be used here, or null when they can. */
export function otherUsersUnavailable(): string | null {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not running as root';
  if (spawnSync('runuser', ['--help']).error || spawnSync('setpriv', ['--help']).error) return 'runuser or setpriv is missing';
  if (
    spawnSync('runuser', ['-u', 'nobody', '--', process.execPath, '-e', `require('fs').accessSync(${JSON.stringify(DRIVER)})`]).status !== 0
  )
    return 'nobody cannot read the repository';
  return null;
}

export type As = { user: 'nobody' } | { uid: number };
export type Outcome = { ok?: unknown; error?: { code: number; message: string; data?: Record<string, unknown> } };

/** Runs `calls` on one connection as `who`; resolves to each call's outcome. */
export function callAs(
  who: As,
  socket: string,
  calls: Array<{ method: string; params?: object }>,
  options: object = {},
  env: NodeJS.ProcessEnv = {},
): Promise<Outcome[]> {
  const node = [process.execPath, DRIVER, socket, JSON.stringify(calls), JSON.stringify(options)];
  const argv =
    'user' in who
      ? ['runuser', '-u', who.user, '--', ...node]
      : ['setpriv', `--reuid=${who.uid}`, `--regid=${who.uid}`, '--clear-groups', ...node];
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${argv.join(' ')} exited ${code}: ${stderr}`));
      resolve(JSON.parse(stdout) as Outcome[]);
    });
  });
}

/** Lets other users pass through `dir` (but not list it), as a shared socket's directory must. */
export function passable(dir: string): void {
  chmodSync(dir, 0o711);
}
